package io.homing.client;

import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;

/**
 * A sender's Send API key on its calls: {@code
 * SendServiceGrpc.newBlockingStub(channel).withInterceptors(SendApiKey.interceptor(key))} sends
 * it as the metadata {@code authorization: Bearer <key>} (docs/security.md).
 */
public final class SendApiKey {
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private SendApiKey() {}

  /** Adds the key to every call made through the stub it is given to. */
  public static ClientInterceptor interceptor(String key) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + key);
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }
}
