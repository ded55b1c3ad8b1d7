package io.homing.client;

import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.homing.api.ApiKey;

/**
 * A sender's Send API key on its calls: {@code
 * SendServiceGrpc.newBlockingStub(channel).withInterceptors(SendApiKey.interceptor(key))} sends
 * it as the metadata {@code authorization: Bearer <key>} (docs/security.md).
 */
public final class SendApiKey {
  private SendApiKey() {}

  /** Adds the key to every call made through the stub it is given to. */
  public static ClientInterceptor interceptor(String key) {
    Metadata headers = new Metadata();
    headers.put(ApiKey.AUTHORIZATION, ApiKey.BEARER + key);
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }
}
