package io.homing.loadtest;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.homing.api.v1.SendRequest;
import io.homing.api.v1.SendResponse;
import io.homing.api.v1.SendServiceGrpc;
import io.homing.cli.SendApiOptions;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/** Publishes through the public Send API, with a bounded number of calls in flight. */
final class SendApiSink implements Sink {
  private static final int MAX_IN_FLIGHT = 2000;

  private final ManagedChannel channel;
  private final boolean receipts;
  private final SendServiceGrpc.SendServiceStub stub;
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private final LongAdder failures = new LongAdder();

  SendApiSink(String target, SendApiOptions options, boolean receipts) {
    this.receipts = receipts;
    this.channel = options.channel(target);
    SendServiceGrpc.SendServiceStub plain = SendServiceGrpc.newStub(channel);
    this.stub = options.callCredentials().map(plain::withInterceptors).orElse(plain);
  }

  @Override
  public void publish(String userId, byte[] payload) {
    inFlight.acquireUninterruptibly();
    stub.send(
        SendRequest.newBuilder()
            .addUserIds(userId)
            .setPayload(ByteString.copyFrom(payload))
            .setContentType("application/octet-stream")
            .setReceipts(receipts)
            .build(),
        new StreamObserver<SendResponse>() {
          @Override
          public void onNext(SendResponse value) {}

          @Override
          public void onError(Throwable t) {
            failures.increment();
            inFlight.release();
          }

          @Override
          public void onCompleted() {
            inFlight.release();
          }
        });
  }

  @Override
  public long failures() {
    return failures.sum();
  }

  @Override
  public void flush() {
    inFlight.acquireUninterruptibly(MAX_IN_FLIGHT);
    inFlight.release(MAX_IN_FLIGHT);
  }

  @Override
  public void close() {
    flush();
    channel.shutdown();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
