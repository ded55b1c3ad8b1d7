package io.homing.runtime.tls;

import java.io.Closeable;

/**
 * TLS credentials — gRPC's server or channel credentials, or a JDK {@code SSLContext} — whose
 * PEM files are read again every {@link ServerTls#RELOAD_INTERVAL} until closed.
 *
 * @param <T> what the credentials are
 */
public final class Reloading<T> implements Closeable {
  private final T credentials;
  private final PemReloads reloads;

  Reloading(T credentials, PemReloads reloads) {
    this.credentials = credentials;
    this.reloads = reloads;
  }

  public T credentials() {
    return credentials;
  }

  /** Stops reading the files again. Idempotent. */
  @Override
  public void close() {
    reloads.close();
  }
}
