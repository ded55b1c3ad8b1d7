package io.homing.edge.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * Reads of at most a fixed size, like {@link FixedRecvByteBufAllocator}, whose bookkeeping lives
 * with the thread instead of the connection: Netty keeps one read handle per channel (~72 B with
 * a fixed size, ~130 B with the adaptive default) that holds only the counts of the read loop
 * under way. A read loop runs from {@code reset} to {@code readComplete} on the channel's event
 * loop without yielding to another channel, so each thread's one handle serves all of its
 * channels. Every connection gets the same stateless handle, which works on the calling thread's.
 *
 * <p>Thread-safe; one for the node.
 */
@SuppressWarnings("deprecation") // Netty's Handle type, deprecated for its ExtendedHandle subtype
public final class FixedReads implements RecvByteBufAllocator {
  private final FastThreadLocal<ExtendedHandle> handles;
  private final ExtendedHandle handle = new ThreadHandle();

  /** @param bytes the most one read takes; a larger frame takes several */
  public FixedReads(int bytes) {
    FixedRecvByteBufAllocator fixed = new FixedRecvByteBufAllocator(bytes);
    this.handles = new FastThreadLocal<>() {
      @Override
      protected ExtendedHandle initialValue() {
        return (ExtendedHandle) fixed.newHandle();
      }
    };
  }

  @Override
  public Handle newHandle() {
    return handle;
  }

  /** The calling thread's handle, behind one object for every channel. */
  private final class ThreadHandle implements ExtendedHandle {
    private ExtendedHandle current() {
      return handles.get();
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      return current().allocate(alloc);
    }

    @Override
    public int guess() {
      return current().guess();
    }

    @Override
    public void reset(ChannelConfig config) {
      current().reset(config);
    }

    @Override
    public void incMessagesRead(int numMessages) {
      current().incMessagesRead(numMessages);
    }

    @Override
    public void lastBytesRead(int bytes) {
      current().lastBytesRead(bytes);
    }

    @Override
    public int lastBytesRead() {
      return current().lastBytesRead();
    }

    @Override
    public void attemptedBytesRead(int bytes) {
      current().attemptedBytesRead(bytes);
    }

    @Override
    public int attemptedBytesRead() {
      return current().attemptedBytesRead();
    }

    @Override
    public boolean continueReading() {
      return current().continueReading();
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return current().continueReading(maybeMoreDataSupplier);
    }

    @Override
    public void readComplete() {
      current().readComplete();
    }
  }
}
