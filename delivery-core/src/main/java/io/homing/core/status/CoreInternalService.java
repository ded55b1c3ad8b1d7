package io.homing.core.status;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.homing.api.v1.CoreServiceGrpc;
import io.homing.api.v1.GetStatusRequest;
import io.homing.api.v1.GetStatusResponse;

/**
 * The internal API a core serves other cores on its internal port: GetStatus for users of the
 * partitions it owns, forwarded by the core that took the public call (which checked the caller).
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
    lookup.local(request.getUserId(), request.getMessageId()).whenComplete((status, error) -> {
      if (error != null) {
        response.onError(StatusLookup.asStatus(error));
      } else if (status == null) {
        response.onError(Status.UNAVAILABLE.withDescription("core " + instanceId
            + " does not own the partition of user '" + request.getUserId()
            + "' any more (it is moving): retry").asRuntimeException());
      } else {
        response.onNext(status);
        response.onCompleted();
      }
    });
  }
}
