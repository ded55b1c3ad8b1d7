package io.homing.edge.transport;

import io.homing.edge.session.EdgeLimits;
import io.homing.edge.session.Session;
import io.homing.edge.session.SessionContext;
import io.netty.channel.socket.SocketChannel;
import java.net.InetAddress;
import java.util.function.Function;

/**
 * Where a port's new connections take their place in the node's {@link
 * io.homing.edge.session.Admission}: a connection under both limits gets a {@link Session} that
 * holds its place until it authenticates, one over a limit a {@link Refusal} that says which, in
 * the port's protocol. Thread-safe.
 */
public final class AdmissionGate {
  private final SessionContext context;
  private final Refusal nodeFull;
  private final Refusal addressFull;

  /**
   * @param answer the bytes that refuse a connection in the port's protocol, given what the
   *     limit allows in words
   */
  public AdmissionGate(SessionContext context, Function<String, byte[]> answer) {
    this.context = context;
    this.nodeFull = new Refusal(answer.apply(context.admission().describe(
        EdgeLimits.UNAUTHENTICATED)));
    this.addressFull = new Refusal(answer.apply(context.admission().describe(
        EdgeLimits.UNAUTHENTICATED_PER_ADDRESS)));
  }

  /**
   * The session of a new connection, holding its place; or null, with the channel's pipeline
   * ending in the refusal, when a limit is reached.
   */
  public Session admit(SocketChannel channel) {
    InetAddress from = channel.remoteAddress().getAddress();
    String full = context.admission().admit(from);
    if (full == null) {
      return new Session(context, true).admittedFrom(from);
    }
    context.rateLimited(full);
    channel.pipeline().addLast("refusal",
        full.equals(EdgeLimits.UNAUTHENTICATED) ? nodeFull : addressFull);
    return null;
  }
}
