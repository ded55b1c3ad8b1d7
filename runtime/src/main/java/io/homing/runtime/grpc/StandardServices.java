package io.homing.runtime.grpc;

import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.util.List;

/**
 * The services every gRPC port of Homing serves beside its own, so that standard tools work on
 * it: {@code grpc.health.v1.Health} (Kubernetes gRPC probes, {@code grpc-health-probe}, load
 * balancers) and server reflection {@code grpc.reflection.v1} ({@code grpcurl list}, {@code
 * describe}, calls without the .proto files). Neither asks for credentials: health tells only
 * SERVING or NOT_SERVING, and reflection only the schema, which is public in the repository.
 *
 * <p>The overall status (service name "") and each named service's start NOT_SERVING and follow
 * {@link #serving} and {@link #notServing}; {@link #shutdown} makes them NOT_SERVING for good,
 * so that probes fail while the port drains.
 */
public final class StandardServices {
  private final HealthStatusManager health = new HealthStatusManager();
  private final List<String> services;

  /** @param services the full names of the port's own services, e.g. homing.v1.SendService */
  public StandardServices(List<String> services) {
    this.services = List.copyOf(services);
    notServing();
  }

  /** Adds health and reflection to {@code builder}. */
  public <T extends ServerBuilder<T>> T addTo(T builder) {
    return builder
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance());
  }

  /** The port and its services answer SERVING. */
  public void serving() {
    set(ServingStatus.SERVING);
  }

  /** The port and its services answer NOT_SERVING, e.g. while the process has failed. */
  public void notServing() {
    set(ServingStatus.NOT_SERVING);
  }

  /** NOT_SERVING from now on, whatever is set later. */
  public void shutdown() {
    health.enterTerminalState();
  }

  private void set(ServingStatus status) {
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
    for (String service : services) {
      health.setStatus(service, status);
    }
  }
}
