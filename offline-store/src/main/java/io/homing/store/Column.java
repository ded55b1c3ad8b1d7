package io.homing.store;

import io.homing.store.StoreChange.Family;

/**
 * The store's column families: its own data, which the changelog carries ({@link #family} set),
 * and the indexes by time, which a restore derives from the data instead.
 */
enum Column {
  MESSAGES("messages", Family.MESSAGES),
  USERS("users", Family.USERS),
  OFFSETS("offsets", Family.OFFSETS),
  IDS("ids", Family.IDS),
  PUSH("push", Family.PUSH),
  ID_EXPIRY("id-expiry", null),
  EXPIRY("expiry", null);

  /** The RocksDB column family's name. */
  final String familyName;
  /** Where the changelog carries the column's changes; null for a derived index. */
  final Family family;

  Column(String familyName, Family family) {
    this.familyName = familyName;
    this.family = family;
  }

  static Column of(Family family) {
    return switch (family) {
      case MESSAGES -> MESSAGES;
      case USERS -> USERS;
      case OFFSETS -> OFFSETS;
      case IDS -> IDS;
      case PUSH -> PUSH;
    };
  }
}
