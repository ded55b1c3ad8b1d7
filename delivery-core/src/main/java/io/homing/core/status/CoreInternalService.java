package io.homing.core.status;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.homing.api.v1.CoreServiceGrpc;
import io.homing.api.v1.GetStatusRequest;
import io.homing.api.v1.GetStatusResponse;
import io.homing.api.v1.GetUserRequest;
import io.homing.api.v1.KickDeviceRequest;
import io.homing.api.v1.KickDeviceResponse;
import io.homing.api.v1.UserInfo;
import java.util.concurrent.CompletableFuture;

/**
 * The internal API a core serves other cores on its internal port: GetStatus and the admin API's
 * calls about a user, for users of the partitions it owns, forwarded by the core that took the
 * public call (which checked the caller).
 */
public final class CoreInternalService extends CoreServiceGrpc.CoreServiceImplBase {
  private final StatusLookup lookup;
  private final String instanceId;

  public CoreInternalService(StatusLookup lookup, String instanceId) {
    this.lookup = lookup;
    this.instanceId = instanceId;
  }

  @Override
  public void getStatus(GetStatusRequest request, StreamObserver<GetStatusResponse> response) {
    answer(lookup.local(request.getUserId(), request.getMessageId()), request.getUserId(),
        response);
  }

  @Override
  public void getUser(GetUserRequest request, StreamObserver<UserInfo> response) {
    answer(lookup.localUser(request.getUserId()), request.getUserId(), response);
  }

  @Override
  public void kickDevice(KickDeviceRequest request,
      StreamObserver<KickDeviceResponse> response) {
    answer(lookup.localKick(request), request.getUserId(), response);
  }

  /** Sends what this instance answered; UNAVAILABLE when it does not own the user any more. */
  private <T> void answer(CompletableFuture<T> local, String userId,
      StreamObserver<T> response) {
    local.whenComplete((value, error) -> {
      if (error != null) {
        response.onError(StatusLookup.asStatus(error));
      } else if (value == null) {
        response.onError(Status.UNAVAILABLE.withDescription("core " + instanceId
            + " does not own the partition of user '" + userId
            + "' any more (it is moving): retry").asRuntimeException());
      } else {
        response.onNext(value);
        response.onCompleted();
      }
    });
  }
}
