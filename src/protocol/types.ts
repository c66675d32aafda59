/**
 * Message type numbers and shared limits of the stateless (HTTP) protocol.
 *
 * Both enums are numbered from 1 in declaration order, as the reference's
 * `IntEnum`s with `auto()` are; only response bodies carry a type on the wire.
 *
 * @module
 */

/** Types of messages a subscriber sends to a broadcaster (docs/protocol.md#message-types). */
export const SubscriberToBroadcasterType = {
  NOTIFY: 1,
  SUBSCRIBE_EXACT: 2,
  SUBSCRIBE_GLOB: 3,
  UNSUBSCRIBE_EXACT: 4,
  UNSUBSCRIBE_GLOB: 5,
  CHECK_SUBSCRIPTIONS: 6,
  SET_SUBSCRIPTIONS: 7,
  RESPONSE_CONFIRM_RECEIVE: 8,
  RESPONSE_CONFIRM_MISSED: 9,
  RESPONSE_UNSUBSCRIBE_IMMEDIATE: 10,
} as const;

/** Types of messages a broadcaster sends to a subscriber (docs/protocol.md#message-types). */
export const BroadcasterToSubscriberType = {
  RECEIVE: 1,
  MISSED: 2,
  RESPONSE_GENERIC: 3,
  RESPONSE_NOTIFY: 4,
  RESPONSE_CHECK_SUBSCRIPTIONS: 5,
} as const;

/**
 * Longest glob pattern, in UTF-8 bytes, that parsers accept (docs/decisions.md#limits-on-fields):
 * SQLite refuses longer patterns, which could otherwise wedge the store.
 */
export const MAX_GLOB_BYTES = 50_000;
