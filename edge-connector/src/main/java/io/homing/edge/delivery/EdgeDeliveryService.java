package io.homing.edge.delivery;

import io.grpc.stub.StreamObserver;
import io.homing.api.v1.Delivery;
import io.homing.api.v1.DeliveryBatch;
import io.homing.api.v1.DeliveryResult;
import io.homing.api.v1.DeliveryResults;
import io.homing.api.v1.Disconnect;
import io.homing.api.v1.EdgeServiceGrpc;
import io.homing.api.v1.Error;
import io.homing.api.v1.StreamOpened;
import io.homing.edge.session.ConnectionRegistry;
import io.homing.edge.session.Session;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The internal API core streams deliveries to: every delivery is written to the device's
 * connection on this node if that is the connection core named, and answered with what happened
 * to it. A stream core opened for a connection answers the client's Auth with AuthOk. A newer connection of the device gets its messages only once core knows of it. Core may
 * also ask to close a connection whose device stopped acking; it reconnects and resumes.
 */
public final class EdgeDeliveryService extends EdgeServiceGrpc.EdgeServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(EdgeDeliveryService.class);

  private final ConnectionRegistry registry;
  private final Counter written;
  private final Counter notConnected;

  public EdgeDeliveryService(ConnectionRegistry registry, MeterRegistry meters) {
    this.registry = registry;
    this.written = Counter.builder("homing.edge.pushes").tag("outcome", "written")
        .description("Deliveries from core, by what became of them").register(meters);
    this.notConnected = Counter.builder("homing.edge.pushes").tag("outcome", "not_connected")
        .description("Deliveries from core, by what became of them").register(meters);
  }

  @Override
  public StreamObserver<DeliveryBatch> deliver(StreamObserver<DeliveryResults> results) {
    return new StreamObserver<>() {
      @Override
      public void onNext(DeliveryBatch batch) {
        batch.getOpenedList().forEach(EdgeDeliveryService.this::opened);
        DeliveryResults.Builder answer = DeliveryResults.newBuilder();
        for (Delivery delivery : batch.getDeliveriesList()) {
          answer.addResults(deliver(delivery));
        }
        batch.getDisconnectsList().forEach(EdgeDeliveryService.this::disconnect);
        results.onNext(answer.build());
      }

      @Override
      public void onError(Throwable t) {
        log.debug("delivery stream from core ended: {}", t.toString());
      }

      @Override
      public void onCompleted() {
        results.onCompleted();
      }
    };
  }

  private void opened(StreamOpened stream) {
    Session session = registry.find(stream.getUserId(), stream.getDeviceId());
    if (session != null && session.isConnection(stream.getConnectionId())) {
      session.opened(stream);
    }
  }

  private void disconnect(Disconnect disconnect) {
    Session session = registry.find(disconnect.getUserId(), disconnect.getDeviceId());
    if (session != null && session.isConnection(disconnect.getConnectionId())) {
      log.info("closing {}/{}: {}", disconnect.getUserId(), disconnect.getDeviceId(),
          disconnect.getReason());
      session.closeWith(disconnect.getCode() == Error.Code.CODE_UNSPECIFIED
          ? Error.Code.ACK_TIMEOUT : disconnect.getCode(), disconnect.getReason());
    }
  }

  private DeliveryResult deliver(Delivery delivery) {
    Session session = registry.find(delivery.getUserId(), delivery.getDeviceId());
    boolean written =
        session != null
            && session.isConnection(delivery.getConnectionId())
            && session.push(delivery.getSeq(), delivery.getPrevSeq(), delivery.getMessage());
    (written ? this.written : notConnected).increment();
    return DeliveryResult.newBuilder()
        .setUserId(delivery.getUserId())
        .setDeviceId(delivery.getDeviceId())
        .setSeq(delivery.getSeq())
        .setOutcome(
            written ? DeliveryResult.Outcome.WRITTEN : DeliveryResult.Outcome.NOT_CONNECTED)
        .build();
  }
}
