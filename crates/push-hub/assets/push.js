// push.js: the hub's browser client for the transports EventSource does not cover: the push-ws
// WebSocket protocol (/ws) and long polling (/poll). No dependencies. Load it as a module:
//
//   <script type="module">
//     import { subscribe } from '/push.js';   // or, after loading, the global `push.subscribe`
//     const sub = subscribe('/ws', { topics: ['jobs/42'], onEvent: (e) => console.log(e.data) });
//   </script>
//
// One subscription keeps the cursor of the last event (or gap, or empty answer) it saw and, after
// any interruption, reconnects after an exponential back-off with jitter and resumes after that
// cursor, so nothing the hub still holds is skipped or repeated. Lost events are never silent:
// the hub's gap notices arrive as `gap` events.

const MIN_DELAY = 250;
const MAX_DELAY = 30000;
const POLL_WAIT = 25;

// A subscription: an EventTarget that dispatches `event`, `gap`, `status` and `fail` events
// (CustomEvents whose `detail` is what the matching callback option receives).
class Subscription extends EventTarget {
  constructor(url, options) {
    super();
    const topics = [].concat(options.topics || []);
    if (topics.length === 0) throw new TypeError('push.subscribe needs at least one topic');
    this.url = new URL(url, globalThis.location ? location.href : undefined);
    this.topics = topics.map(String);
    this.transport = options.transport || inferTransport(this.url);
    if (this.transport !== 'ws' && this.transport !== 'poll') {
      throw new TypeError(`unknown transport ${this.transport} (ws or poll)`);
    }
    this.token = options.token;
    this.wait = options.wait ?? POLL_WAIT;
    this.minDelay = options.minDelay ?? MIN_DELAY;
    this.maxDelay = options.maxDelay ?? MAX_DELAY;
    this.storageKey = options.remember;
    this.cursor = options.from ?? remembered(this.storageKey);
    this.status = 'connecting';
    this.attempt = 0;
    this.closed = false;
    this.timer = undefined;
    for (const [type, option] of [['event', 'onEvent'], ['gap', 'onGap'], ['status', 'onStatus'], ['fail', 'onFail']]) {
      if (typeof options[option] === 'function') {
        this.addEventListener(type, (e) => options[option](e.detail));
      }
    }
    queueMicrotask(() => this.connect());
  }

  // Ends the subscription for good: no more events, no reconnection.
  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
    if (this.abort) this.abort.abort();
    this.setStatus('closed');
  }

  connect() {
    if (this.closed) return;
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    // A token function that throws or rejects is retried like a failed connection.
    new Promise((resolve) => resolve(typeof this.token === 'function' ? this.token() : this.token)).then(
      (token) => {
        if (this.closed) return;
        if (this.transport === 'ws') this.openSocket(token);
        else this.poll(token);
      },
      (error) => this.retry(error),
    );
  }

  // The next attempt after the back-off: min × 2^attempt capped at max, with "equal jitter"
  // (half fixed, half random) so that clients cut off together do not come back together.
  retry(reason, hint) {
    if (this.closed) return;
    const ceiling = Math.min(this.maxDelay, this.minDelay * 2 ** Math.min(this.attempt, 16));
    let delay = ceiling / 2 + Math.random() * (ceiling / 2);
    if (hint !== undefined) delay = Math.min(this.maxDelay, Math.max(delay, hint));
    const attempt = this.attempt;
    this.attempt += 1;
    this.setStatus('waiting', { delay, attempt, reason: String(reason ?? '') });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // A connection that works resets the back-off.
  connected() {
    this.attempt = 0;
    this.setStatus('open');
  }

  fail(message, status) {
    this.dispatch('fail', { message, status });
    this.close();
  }

  setStatus(status, extra) {
    this.status = status;
    this.dispatch('status', { status, ...extra });
  }

  dispatch(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  advance(cursor) {
    if (!cursor) return;
    this.cursor = cursor;
    if (this.storageKey) {
      try {
        sessionStorage.setItem(this.storageKey, cursor);
      } catch (_) {
        // Storage may be disabled; the cursor in memory still resumes.
      }
    }
  }

  deliver(event) {
    this.advance(event.id);
    this.dispatch('event', event);
  }

  gap(reason, resume) {
    this.advance(resume);
    this.dispatch('gap', { reason, resume });
  }

  // --- WebSocket (the push-ws protocol) ---------------------------------------------------

  openSocket(token) {
    const url = new URL(this.url);
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    for (const topic of this.topics) url.searchParams.append('topic', topic);
    if (this.cursor) url.searchParams.set('from', this.cursor);
    // Browsers cannot set headers on a WebSocket: the token goes in the query (a same-site
    // cookie, the other way, needs nothing here).
    if (token) url.searchParams.set('authorization', token);
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      this.fail(String(error));
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    let pending; // an event whose data follows in a binary frame
    socket.onmessage = (frame) => {
      if (typeof frame.data !== 'string') {
        if (pending) {
          pending.data = new Uint8Array(frame.data);
          const event = pending;
          pending = undefined;
          this.deliver(event);
        }
        return;
      }
      let message;
      try {
        message = JSON.parse(frame.data);
      } catch (_) {
        return; // not ours: the protocol speaks JSON objects only
      }
      switch (message.type) {
        case 'subscribed':
          this.advance(message.cursor);
          this.connected();
          break;
        case 'event': {
          const event = { id: message.id, topic: message.topic, type: message.event || 'message', data: message.data };
          if (typeof message.binary === 'number') pending = event;
          else this.deliver(event);
          break;
        }
        case 'gap':
          this.gap(message.reason, message.resume);
          break;
        case 'error':
          // A refused subscribe (401/403) will be refused again: give up and say why.
          if (message.status === 401 || message.status === 403) this.fail(message.message, message.status);
          break;
        default:
      }
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.closed) return;
      // 1008 is a policy close (an expired token): a token function may give a fresh one.
      if (close.code === 1008 && typeof this.token !== 'function') {
        this.fail(close.reason || 'closed by policy', 1008);
        return;
      }
      this.retry(`closed ${close.code}${close.reason ? ` ${close.reason}` : ''}`);
    };
  }

  // --- Long polling (push-longpoll) --------------------------------------------------------

  async poll(token) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    // The first request of a connection is a short poll: it pins the cursor (from now, when
    // there is none yet) and shows the connection open at once; then each request is held.
    let wait = 0;
    while (!this.closed) {
      const url = new URL(this.url);
      for (const topic of this.topics) url.searchParams.append('topic', topic);
      if (this.cursor) url.searchParams.set('since', this.cursor);
      url.searchParams.set('wait', String(wait));
      wait = this.wait;
      this.abort = new AbortController();
      let response;
      let body;
      try {
        response = await fetch(url, { headers, cache: 'no-store', signal: this.abort.signal });
        body = response.status === 200 ? await response.json() : await response.text();
      } catch (error) {
        if (!this.closed) this.retry(error);
        return;
      }
      if (this.closed) return;
      const status = response.status;
      if (status === 200) {
        if (this.status !== 'open') this.connected();
        if (body.gap) this.gap('unspecified', body.events.length > 0 ? undefined : body.next);
        for (const e of body.events) {
          this.deliver({ id: e.id, topic: e.topic, type: e.event || 'message', data: e.data });
        }
        this.advance(body.next);
      } else if (status === 204 || status === 304) {
        if (this.status !== 'open') this.connected();
        this.advance(response.headers.get('Push-Cursor'));
      } else if (status === 408 || status === 429 || status >= 500) {
        this.retry(`HTTP ${status}`, retryAfter(response));
        return;
      } else {
        // 400, 401, 403, 404: asking again would get the same answer.
        const message = typeof body === 'string' ? body.trim() : '';
        this.fail(message || `HTTP ${status}`, status);
        return;
      }
    }
  }
}

function inferTransport(url) {
  if (url.protocol === 'ws:' || url.protocol === 'wss:' || /\/ws\/?$/.test(url.pathname)) return 'ws';
  return 'poll';
}

function remembered(key) {
  if (!key) return undefined;
  try {
    return sessionStorage.getItem(key) || undefined;
  } catch (_) {
    return undefined;
  }
}

// Retry-After in seconds (an HTTP date is treated as "no hint").
function retryAfter(response) {
  const seconds = Number(response.headers.get('Retry-After'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

// Subscribes to `topics` at `url` (a hub's /ws or /poll). Options: topics (required), transport
// ('ws' | 'poll'; default from the URL), from (a cursor to resume after), token (a string, or a
// function returning one or a promise of one, asked at every connection), remember (a
// sessionStorage key that keeps the cursor across page loads), wait (long-poll hold, seconds),
// minDelay / maxDelay (back-off bounds, ms), onEvent, onGap, onStatus, onFail.
export function subscribe(url, options = {}) {
  return new Subscription(url, options);
}

export { Subscription };
const push = { subscribe, Subscription };
export default push;
globalThis.push = push;
