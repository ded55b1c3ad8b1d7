package io.homing.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.homing.api.v1.AdminServiceGrpc;
import io.homing.api.v1.DeviceInfo;
import io.homing.api.v1.EdgeInfo;
import io.homing.api.v1.EraseUserRequest;
import io.homing.api.v1.EraseUserResponse;
import io.homing.api.v1.GetUserRequest;
import io.homing.api.v1.KickDeviceRequest;
import io.homing.api.v1.KickDeviceResponse;
import io.homing.api.v1.ListEdgesRequest;
import io.homing.api.v1.ListEdgesResponse;
import io.homing.api.v1.ListPartitionsRequest;
import io.homing.api.v1.ListPartitionsResponse;
import io.homing.api.v1.PartitionInfo;
import io.homing.api.v1.SetPausedRequest;
import io.homing.api.v1.UserInfo;
import io.homing.client.SendApiChannel;
import io.homing.client.SendApiKey;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code homing-admin} ({@code homing-cli admin}): the admin API from the command line
 * (docs/operations.md#admin-api). Each verb prints a human-readable answer, or with
 * {@code --json} the API's answer in protobuf's JSON mapping. Exit 0; 2 when the user is not
 * found; 1 on any other error.
 */
@Command(name = "admin", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Operate a deployment through core's admin API: a user's devices and queue, "
        + "kick, erase, pause and resume; edges and partitions.",
    subcommands = {AdminCommand.User.class, AdminCommand.Kick.class, AdminCommand.Erase.class,
        AdminCommand.Pause.class, AdminCommand.Resume.class, AdminCommand.Edges.class,
        AdminCommand.Partitions.class})
final class AdminCommand {
  /** The local stack's development admin key (deploy/local/run.sh). */
  static final String DEV_ADMIN_KEY = "homing-dev-admin-key-do-not-use-in-production";

  /** Where the admin API is and how to prove an operator: a picocli mixin of every verb. */
  static final class Connection {
    @Option(names = "--admin-api", defaultValue = "${env:HOMING_ADMIN_API:-127.0.0.1:7404}",
        description = "Core's admin API address (env HOMING_ADMIN_API).")
    String address;

    @Option(names = "--admin-key", showDefaultValue = Visibility.NEVER,
        defaultValue = "${env:HOMING_ADMIN_KEY:-" + DEV_ADMIN_KEY + "}",
        description = "An admin API key of core's --admin-api-keys file (env HOMING_ADMIN_KEY); "
            + "default the local stack's development key.")
    String key;

    @Option(names = "--tls-ca", defaultValue = "${env:HOMING_ADMIN_TLS_CA:-}",
        description = "PEM CA the admin port's certificate must chain to, when it serves TLS "
            + "(env HOMING_ADMIN_TLS_CA); empty: plaintext.")
    String ca;

    @Option(names = "--json", description = "Print the API's answer as JSON.")
    boolean json;

    /** Calls the admin API with {@code call}, prints what it answers; returns the exit code. */
    <T extends MessageOrBuilder> int run(
        Function<AdminServiceGrpc.AdminServiceBlockingStub, T> call,
        BiConsumer<T, PrintStream> print) {
      ManagedChannel channel = SendApiChannel.open(address, ca.isEmpty() ? Optional.empty()
          : Optional.of(new SendApiChannel.Tls(Optional.of(Path.of(ca)), Optional.empty(),
              Optional.empty())));
      try {
        T answer = call.apply(AdminServiceGrpc.newBlockingStub(channel)
            .withInterceptors(SendApiKey.interceptor(key))
            .withDeadlineAfter(60, TimeUnit.SECONDS));
        if (json) {
          System.out.println(JsonFormat.printer().print(answer));
        } else {
          print.accept(answer, System.out);
        }
        return 0;
      } catch (StatusRuntimeException e) {
        System.err.println("admin API: " + e.getStatus().getCode() + ": "
            + e.getStatus().getDescription());
        return e.getStatus().getCode() == Status.Code.NOT_FOUND ? 2 : 1;
      } catch (InvalidProtocolBufferException e) {
        System.err.println("cannot print the answer as JSON: " + e.getMessage());
        return 1;
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Command(name = "user", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "A user's devices (edge, cursor, in flight, push target), queue depth and "
          + "oldest message, and whether her delivery is paused.")
  static final class User implements Callable<Integer> {
    @Parameters(paramLabel = "<user>", description = "The user id.")
    String user;

    @Mixin Connection admin;

    @Override
    public Integer call() {
      return admin.run(stub -> stub.getUser(GetUserRequest.newBuilder().setUserId(user).build()),
          AdminCommand::print);
    }
  }

  @Command(name = "kick", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Close the connection of a user's device (every device without --device) "
          + "with Error KICKED; the client may reconnect with a valid token.")
  static final class Kick implements Callable<Integer> {
    @Parameters(paramLabel = "<user>", description = "The user id.")
    String user;

    @Option(names = "--device", defaultValue = "", description = "The device; empty: all.")
    String device;

    @Option(names = "--reason", defaultValue = "",
        description = "Told to the client; empty: 'closed by an operator (<key name>)'.")
    String reason;

    @Mixin Connection admin;

    @Override
    public Integer call() {
      return admin.run(stub -> stub.kickDevice(KickDeviceRequest.newBuilder().setUserId(user)
          .setDeviceId(device).setReason(reason).build()),
          (KickDeviceResponse kicked, PrintStream out) -> out.println(
              kicked.getKickedDeviceIdsCount() == 0 ? "no device of " + user + " was connected"
                  : "kicked " + String.join(", ", kicked.getKickedDeviceIdsList())));
    }
  }

  @Command(name = "erase", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Erase a user's queue and state (her messages, devices, cursors and push "
          + "targets; her connections are closed), and print where her data remains until "
          + "Kafka's retention. Asks for --yes.")
  static final class Erase implements Callable<Integer> {
    @Parameters(paramLabel = "<user>", description = "The user id.")
    String user;

    @Option(names = "--yes", description = "Erase: without it, nothing is done.")
    boolean yes;

    @Mixin Connection admin;

    @Override
    public Integer call() {
      if (!yes) {
        System.err.println("erase deletes every queued message and device of " + user
            + ": run again with --yes to do it");
        return 1;
      }
      return admin.run(stub -> stub.eraseUser(EraseUserRequest.newBuilder().setUserId(user)
          .build()), (EraseUserResponse erased, PrintStream out) -> {
            out.println(erased.getApplied() ? "erased " + user
                : "the erase of " + user + " is written; her core applies it once it catches up");
            out.println("what remains:");
            for (EraseUserResponse.Remains remains : erased.getRemainsList()) {
              out.printf("  %-24s %s; %s%n", remains.getWhere(), remains.getWhat(),
                  remains.getRetentionUnknown() ? "for how long, Kafka did not say"
                      : remains.getRetentionMs() < 0 ? "kept until deleted"
                      : remains.getRetentionMs() == 0 ? "not bounded by time"
                      : "at most " + Duration.ofMillis(remains.getRetentionMs()));
            }
          });
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Hold a user's deliveries and notifications; messages keep queueing.")
  static final class Pause implements Callable<Integer> {
    @Parameters(paramLabel = "<user>", description = "The user id.")
    String user;

    @Mixin Connection admin;

    @Override
    public Integer call() {
      return setPaused(admin, user, true);
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Resume a paused user's deliveries: each connected device gets its "
          + "backlog.")
  static final class Resume implements Callable<Integer> {
    @Parameters(paramLabel = "<user>", description = "The user id.")
    String user;

    @Mixin Connection admin;

    @Override
    public Integer call() {
      return setPaused(admin, user, false);
    }
  }

  @Command(name = "edges", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "The live edge nodes and their internal addresses.")
  static final class Edges implements Callable<Integer> {
    @Mixin Connection admin;

    @Override
    public Integer call() {
      return admin.run(stub -> stub.listEdges(ListEdgesRequest.getDefaultInstance()),
          (ListEdgesResponse edges, PrintStream out) -> {
            out.printf("%-20s %-28s %s%n", "NODE", "ADDRESS", "TTL");
            for (EdgeInfo edge : edges.getEdgesList()) {
              out.printf("%-20s %-28s %d ms%n", edge.getNodeId(), edge.getAddress(),
                  edge.getTtlMs());
            }
          });
    }
  }

  @Command(name = "partitions", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Every partition, its owning core, and the core group's lag behind "
          + "outbound and delivery-events.")
  static final class Partitions implements Callable<Integer> {
    @Mixin Connection admin;

    @Override
    public Integer call() {
      return admin.run(stub -> stub.listPartitions(ListPartitionsRequest.getDefaultInstance()),
          (ListPartitionsResponse partitions, PrintStream out) -> {
            out.println("group " + partitions.getGroupId());
            out.printf("%-9s %-16s %14s %14s%n", "PARTITION", "OWNER", "OUTBOUND LAG",
                "EVENTS LAG");
            for (PartitionInfo p : partitions.getPartitionsList()) {
              out.printf("%-9d %-16s %14d %14d%n", p.getPartition(),
                  p.getOwner().isEmpty() ? "(moving)" : p.getOwner(), p.getOutboundLag(),
                  p.getEventsLag());
            }
          });
    }
  }

  private static int setPaused(Connection admin, String user, boolean paused) {
    return admin.run(stub -> stub.setPaused(SetPausedRequest.newBuilder().setUserId(user)
        .setPaused(paused).build()), AdminCommand::print);
  }

  private static void print(UserInfo user, PrintStream out) {
    out.printf("user %s: partition %d, answered by %s%n", user.getUserId(), user.getPartition(),
        user.getAnsweredBy());
    out.printf("  last seq %d, stream epoch %d, delivery %s%n", user.getLastSeq(),
        user.getStreamEpoch(), user.getPaused() ? "PAUSED" : "running");
    out.printf("  queued: %d message(s), %d bytes%s%n", user.getQueuedMessages(),
        user.getQueuedBytes(), user.getOldestSeq() == 0 ? ""
            : "; oldest seq " + user.getOldestSeq() + ", published "
                + Instant.ofEpochMilli(user.getOldestCreatedAtMs()));
    out.printf("  devices: %d%n", user.getDevicesCount());
    for (DeviceInfo device : user.getDevicesList()) {
      out.printf("    %s: acked %d, last seen %s, %s%s%n", device.getDeviceId(),
          device.getAckedSeq(), Instant.ofEpochMilli(device.getLastSeenMs()),
          device.getConnected() ? "connected on " + device.getEdgeNode() + " (connection "
              + device.getConnectionId() + "), sent " + device.getSentSeq() + ", "
              + device.getInFlight() + " in flight" : "not connected",
          device.getPushTarget().isEmpty() ? "" : ", push target " + device.getPushTarget());
    }
  }
}
