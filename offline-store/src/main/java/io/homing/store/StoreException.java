package io.homing.store;

/** The store could not read or write: the disk or RocksDB failed. Not recoverable by retrying. */
public final class StoreException extends RuntimeException {
  StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
