/** Payload of the `notification` helper event. */
export interface Notification {
  title: string;
  message?: string;
  level?: 'info' | 'success' | 'warning' | 'error';
  /** Where the application may navigate when the notification is clicked. */
  url?: string;
  [extra: string]: unknown;
}

/** Payload of the `badge-update` helper event: a counter shown next to `badge`. */
export interface BadgeUpdate {
  badge: string;
  count: number;
  [extra: string]: unknown;
}

/** Payload of the `new-item` helper event: something was added to a list. */
export interface NewItem {
  /** The kind of item (`post`, `order`, …). */
  type: string;
  id: string;
  item?: unknown;
  [extra: string]: unknown;
}

/** The helper events every hub can send, whatever its own event map. */
export interface HelperEvents {
  notification: Notification;
  'badge-update': BadgeUpdate;
  'new-item': NewItem;
}
