package io.homing.core.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ChannelCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.homing.api.v1.Delivery;
import io.homing.api.v1.DeliveryBatch;
import io.homing.api.v1.DeliveryResults;
import io.homing.api.v1.EdgeServiceGrpc;
import io.homing.runtime.tls.InternalTls;
import io.homing.runtime.tls.Reloading;
import io.homing.testing.DevCertificates;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Core's delivery streams over mutual TLS: which edges core talks to. The edge here is a real
 * gRPC server with the internal API over mutual TLS, trusting the internal CA, as an edge does.
 */
class EdgeClientsTlsTest {
  private static final DevCertificates INTERNAL_CA = DevCertificates.create();
  private static final DevCertificates.Identity CORE = INTERNAL_CA.peerCertificate("core");

  private final List<AutoCloseable> opened = new ArrayList<>();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = opened.size() - 1; i >= 0; i--) {
      opened.get(i).close();
    }
  }

  @Test
  void deliversToAnEdgeWhoseCertificateNamesTheHostDialled() throws Exception {
    Edge edge = edge(INTERNAL_CA.peerCertificate("edge")); // names 127.0.0.1

    clients(Optional.empty()).send("edge-1", edge.address(), batch("named"), List.of());

    assertThat(edge.received.get(10, TimeUnit.SECONDS).getDeliveries(0).getUserId())
        .isEqualTo("named");
  }

  @Test
  void refusesAnEdgeWhoseCertificateNamesAnotherHost() throws Exception {
    Edge edge = edge(INTERNAL_CA.peerCertificate("elsewhere", "DNS:elsewhere.example"));

    clients(Optional.empty()).send("edge-1", edge.address(), batch("misnamed"), List.of());

    awaitFailures(1);
    assertThat(edge.received).isNotDone();
  }

  @Test
  void takesTheServerNameInPlaceOfTheHostDialled() throws Exception {
    Edge edge = edge(INTERNAL_CA.peerCertificate("edge-7", "DNS:homing-edge"));

    clients(Optional.of("homing-edge"))
        .send("edge-7", edge.address(), batch("by name"), List.of());

    assertThat(edge.received.get(10, TimeUnit.SECONDS).getDeliveries(0).getUserId())
        .isEqualTo("by name");
  }

  @Test
  void refusesAnEdgeWhoseCertificateIsOfAnotherCa() throws Exception {
    Edge edge = edge(DevCertificates.create().peerCertificate("edge"));

    clients(Optional.empty()).send("edge-1", edge.address(), batch("impostor"), List.of());

    awaitFailures(1);
    assertThat(edge.received).isNotDone();
  }

  private EdgeClients clients(Optional<String> serverName) {
    Reloading<ChannelCredentials> tls = new InternalTls(INTERNAL_CA.caCertificate(),
        CORE.certificate(), CORE.privateKey(), serverName).channelCredentials();
    opened.add(tls);
    EdgeClients clients = new EdgeClients(tls.credentials(), serverName, meters);
    opened.add(clients);
    return clients;
  }

  private void awaitFailures(double count) {
    await().atMost(Duration.ofSeconds(10))
        .until(() -> meters.counter("homing.edge.stream.failures").count() >= count);
  }

  private static DeliveryBatch batch(String user) {
    return DeliveryBatch.newBuilder()
        .addDeliveries(Delivery.newBuilder().setUserId(user).setDeviceId("d").setSeq(1))
        .build();
  }

  /**
   * An edge's internal API with this certificate, trusting the internal CA and asking callers
   * for a certificate of it, as an edge with --internal-tls-* does.
   */
  private Edge edge(DevCertificates.Identity certificate) throws Exception {
    Reloading<ServerCredentials> tls = new InternalTls(INTERNAL_CA.caCertificate(),
        certificate.certificate(), certificate.privateKey(), Optional.empty())
        .serverCredentials();
    opened.add(tls);
    Edge edge = new Edge();
    Server server = NettyServerBuilder.forPort(0, tls.credentials()).addService(edge).build()
        .start();
    opened.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    edge.port = server.getPort();
    return edge;
  }

  private static final class Edge extends EdgeServiceGrpc.EdgeServiceImplBase {
    final CompletableFuture<DeliveryBatch> received = new CompletableFuture<>();
    int port;

    String address() {
      return "127.0.0.1:" + port;
    }

    @Override
    public StreamObserver<DeliveryBatch> deliver(StreamObserver<DeliveryResults> results) {
      return new StreamObserver<>() {
        @Override
        public void onNext(DeliveryBatch batch) {
          received.complete(batch);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          results.onCompleted();
        }
      };
    }
  }
}
