package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.homing.api.v1.AdminServiceGrpc;
import io.homing.api.v1.EraseUserRequest;
import io.homing.api.v1.Error;
import io.homing.api.v1.GetUserRequest;
import io.homing.api.v1.KickDeviceRequest;
import io.homing.api.v1.ServerFrame;
import io.homing.api.v1.SetPausedRequest;
import io.homing.api.v1.UserInfo;
import io.homing.client.SendApiKey;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin API on users core has not streamed to since it took their partition: a restarted
 * core knows her connected devices only from Redis, until a message comes. Kick, erase, resume
 * and GetUser must find them there.
 */
class AdminAfterRestartIT {
  @RegisterExtension static final TestCluster cluster = TestCluster.perClass(1);

  private static <T> T admin(Function<AdminServiceGrpc.AdminServiceBlockingStub, T> call) {
    ManagedChannel channel = NettyChannelBuilder
        .forAddress("127.0.0.1", cluster.coreAdminPort(0)).usePlaintext().build();
    try {
      return call.apply(AdminServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .withInterceptors(SendApiKey.interceptor(TestCluster.ADMIN_KEY)));
    } finally {
      channel.shutdownNow();
    }
  }

  private static void restartCore() throws Exception {
    cluster.stopCore(0);
    cluster.startCore(0);
    assertThat(cluster.awaitCoreMetric(0, "homing_partitions_owned", owned -> owned >= 4,
        Duration.ofSeconds(30))).as("the restarted core owns every partition").isEqualTo(4);
  }

  @Test
  void kickAndGetUserFindAnIdleUsersDeviceInRedis() throws Exception {
    String user = "idle-" + UUID.randomUUID();
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.authenticate(cluster.token(user, "tablet"), 0);
      restartCore();

      UserInfo info = admin(stub -> stub.getUser(
          GetUserRequest.newBuilder().setUserId(user).build()));
      assertThat(info.getDevicesList()).singleElement()
          .satisfies(device -> assertThat(device.getConnected()).isTrue());
      assertThat(admin(stub -> stub.kickDevice(KickDeviceRequest.newBuilder().setUserId(user)
          .build())).getKickedDeviceIdsList()).containsExactly("tablet");
      assertThat(closingError(socket)).isEqualTo(Error.Code.KICKED);
    }
  }

  @Test
  void eraseClosesAndResumeDeliversToAnIdleUsersDevice() throws Exception {
    String user = "paused-" + UUID.randomUUID();
    try (RawWebSocket socket = new RawWebSocket(cluster.wsUri(0))) {
      socket.authenticate(cluster.token(user, "phone"), 0);
      admin(stub -> stub.setPaused(SetPausedRequest.newBuilder().setUserId(user)
          .setPaused(true).build()));
      cluster.sendText("held", user);
      restartCore();

      admin(stub -> stub.setPaused(SetPausedRequest.newBuilder().setUserId(user)
          .setPaused(false).build()));
      assertThat(socket.nextPushSeq(10)).as("the held message, after the resume").isEqualTo(1);

      restartCore();
      admin(stub -> stub.eraseUser(EraseUserRequest.newBuilder().setUserId(user).build()));
      assertThat(closingError(socket)).isEqualTo(Error.Code.KICKED);
    }
  }

  /** The code of the Error frame the connection ends with, skipping pushes before it. */
  private static Error.Code closingError(RawWebSocket socket) throws Exception {
    for (int i = 0; i < 100; i++) {
      ServerFrame frame = socket.next(10);
      assertThat(frame).as("a frame before the connection ends").isNotNull();
      if (frame.hasError()) {
        return frame.getError().getCode();
      }
    }
    throw new AssertionError("no Error frame");
  }
}
