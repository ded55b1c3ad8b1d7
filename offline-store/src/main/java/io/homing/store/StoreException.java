package io.homing.store;

/**
 * The store could not read or write: the disk or RocksDB failed, or bytes it holds (or restores
 * from its changelog) are corrupt. Not recoverable by retrying.
 */
public final class StoreException extends RuntimeException {
  StoreException(String message) {
    super(message);
  }

  StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
