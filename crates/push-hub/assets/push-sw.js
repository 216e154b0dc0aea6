// The demo's service worker (/push-sw.js): shows each Web Push message the hub sends as a
// notification, and opens the demo page at the event's cursor when it is clicked.
//
// A message is JSON: {"type", "cursor", "data"} — or {"type", "cursor"} alone when the event
// was too large for one push message; the page then reads it from the hub by its cursor.
// The page registers this worker as /push-sw.js?job=NAME, so the worker knows which job's
// page to open.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

function describe(message) {
  if (typeof message.data !== 'string') return 'a new event: open the page to see it';
  try {
    const update = JSON.parse(message.data);
    if (update && update.step !== undefined) return `step ${update.step} of ${update.of}`;
  } catch (_) {
    // Not JSON: shown as it is.
  }
  return message.data;
}

self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (_) {
    message = {};
  }
  const job = new URL(self.location.href).searchParams.get('job') || 'demo';
  const title = `push-hub: ${message.type || 'update'} on jobs/${job}`;
  event.waitUntil(
    self.registration.showNotification(title, {
      body: describe(message),
      // One notification per job: a newer step replaces the older one.
      tag: `jobs/${job}`,
      data: { job, cursor: message.cursor || null },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const { job, cursor } = event.notification.data || {};
  const url = new URL('/', self.location.origin);
  url.searchParams.set('job', job || 'demo');
  if (cursor) url.searchParams.set('cursor', cursor);
  event.waitUntil(self.clients.openWindow(url.href));
});
