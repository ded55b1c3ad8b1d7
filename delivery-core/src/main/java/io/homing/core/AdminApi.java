package io.homing.core;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the admin API listens and who may call it (docs/operations.md#admin-api). It serves the
 * Send API's TLS when that is configured.
 *
 * @param address the admin port; loopback by default, apart from the Send API's
 * @param apiKeys the operators' key file (the Send API key file's format); empty: every call is
 *     refused
 */
public record AdminApi(InetSocketAddress address, Optional<Path> apiKeys) {
  public AdminApi {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(apiKeys, "apiKeys");
  }
}
