package io.homing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.homing.client.SendApiKey;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Standard gRPC services on every gRPC port of a secured deployment: grpc.health.v1.Health and
 * server reflection answer without credentials, and reflection alone is enough to call the Send
 * API, as grpcurl does (list, describe, then a call whose request is written in JSON).
 */
class GrpcConventionsIT {
  @RegisterExtension
  static final TestCluster cluster =
      TestCluster.perClass(1, TestCluster.Options.defaults().withSecurity());

  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void closeChannels() {
    channels.forEach(ManagedChannel::shutdownNow);
  }

  @Test
  void theSendApiAnswersHealthChecksWithoutCredentials() throws Exception {
    ManagedChannel send = sendApi();
    assertThat(health(send, "")).isEqualTo(ServingStatus.SERVING);
    assertThat(health(send, "homing.v1.SendService")).isEqualTo(ServingStatus.SERVING);
    assertThatThrownBy(() -> health(send, "homing.v1.NoSuchService"))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void theInternalPortsAnswerHealthChecksOverMutualTls() throws Exception {
    ManagedChannel edge = cluster.edgeChannel(0, cluster.coreIdentity());
    channels.add(edge);
    assertThat(health(edge, "homing.v1.EdgeService")).isEqualTo(ServingStatus.SERVING);
    ManagedChannel core = NettyChannelBuilder.forAddress("127.0.0.1",
            cluster.coreInternalPort(0),
            TlsChannelCredentials.newBuilder()
                .trustManager(cluster.certificates().caCertificate().toFile())
                .keyManager(cluster.coreIdentity().certificate().toFile(),
                    cluster.coreIdentity().privateKey().toFile())
                .build())
        .build();
    channels.add(core);
    assertThat(health(core, "homing.v1.CoreService")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void reflectionListsAndDescribesTheServicesWithoutCredentials() throws Exception {
    ManagedChannel send = sendApi();
    assertThat(reflect(send, ServerReflectionRequest.newBuilder().setListServices("").build())
        .getListServicesResponse().getServiceList())
        .extracting(ServiceResponse::getName)
        .contains("homing.v1.SendService", "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection");

    ServiceDescriptor service = describe(send, "homing.v1.SendService");
    assertThat(service.getMethods()).extracting(MethodDescriptor::getName)
        .contains("Send", "GetStatus");
  }

  @Test
  void aCallBuiltFromReflectionAloneReachesTheSendApiWithItsApiKey() throws Exception {
    ManagedChannel send = sendApi();
    MethodDescriptor method = describe(send, "homing.v1.SendService").findMethodByName("Send");
    DynamicMessage.Builder request = DynamicMessage.newBuilder(method.getInputType());
    // What `grpcurl -d '{"userIds": ["gus"], "payload": "aGk="}' ...` sends.
    JsonFormat.parser().merge("{\"userIds\": [\"gus\"], \"payload\": \"aGk=\"}", request);

    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(send, dynamic(method),
            CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), request.build()))
        .as("without the API key")
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

    DynamicMessage response = ClientCalls.blockingUnaryCall(
        ClientInterceptors.intercept(send, SendApiKey.interceptor(TestCluster.API_KEY)),
        dynamic(method), CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS),
        request.build());
    Descriptor output = method.getOutputType();
    String messageId = (String) response.getField(output.findFieldByName("message_id"));
    assertThat(messageId).hasSize(36);
    assertThat(JsonFormat.printer().print(response)).contains("\"userId\": \"gus\"");
  }

  private ManagedChannel sendApi() throws IOException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", cluster.sendPort(),
            TlsChannelCredentials.newBuilder()
                .trustManager(cluster.certificates().caCertificate().toFile())
                .build())
        .build();
    channels.add(channel);
    return channel;
  }

  private static ServingStatus health(ManagedChannel channel, String service) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }

  /** One request on the reflection stream, and its answer. */
  private static ServerReflectionResponse reflect(ManagedChannel channel,
      ServerReflectionRequest request) throws Exception {
    LinkedBlockingQueue<ServerReflectionResponse> answers = new LinkedBlockingQueue<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse response) {
            answers.add(response);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(null);
          }
        });
    requests.onNext(request);
    requests.onCompleted();
    done.get(10, TimeUnit.SECONDS);
    assertThat(answers).hasSize(1);
    ServerReflectionResponse answer = answers.take();
    assertThat(answer.hasErrorResponse()).as("%s", answer.getErrorResponse()).isFalse();
    return answer;
  }

  /** The service named, built from the files reflection sends, dependencies first. */
  private static ServiceDescriptor describe(ManagedChannel channel, String service)
      throws Exception {
    ServerReflectionResponse answer = reflect(channel,
        ServerReflectionRequest.newBuilder().setFileContainingSymbol(service).build());
    Map<String, FileDescriptorProto> files = new HashMap<>();
    for (ByteString bytes : answer.getFileDescriptorResponse().getFileDescriptorProtoList()) {
      FileDescriptorProto file = FileDescriptorProto.parseFrom(bytes);
      files.put(file.getName(), file);
    }
    Map<String, FileDescriptor> built = new HashMap<>();
    for (String name : files.keySet()) {
      build(name, files, built);
    }
    return built.values().stream()
        .map(file -> file.findServiceByName(service.substring(service.lastIndexOf('.') + 1)))
        .filter(found -> found != null && found.getFullName().equals(service))
        .findFirst().orElseThrow();
  }

  private static FileDescriptor build(String name, Map<String, FileDescriptorProto> files,
      Map<String, FileDescriptor> built) throws Exception {
    FileDescriptor done = built.get(name);
    if (done != null) {
      return done;
    }
    FileDescriptorProto file = files.get(name);
    assertThat(file).as("reflection sent %s, a dependency", name).isNotNull();
    List<FileDescriptor> dependencies = new ArrayList<>();
    for (String dependency : file.getDependencyList()) {
      dependencies.add(build(dependency, files, built));
    }
    FileDescriptor descriptor =
        FileDescriptor.buildFrom(file, dependencies.toArray(FileDescriptor[]::new));
    built.put(name, descriptor);
    return descriptor;
  }

  private static io.grpc.MethodDescriptor<DynamicMessage, DynamicMessage> dynamic(
      MethodDescriptor method) {
    return io.grpc.MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
        .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(
            method.getService().getFullName(), method.getName()))
        .setRequestMarshaller(ProtoUtils.marshaller(
            DynamicMessage.getDefaultInstance(method.getInputType())))
        .setResponseMarshaller(ProtoUtils.marshaller(
            DynamicMessage.getDefaultInstance(method.getOutputType())))
        .build();
  }
}
