// The @stomp/stompjs interop scenario, the same in Node and in Chromium: `StompJs` is the
// library (Node's `require`, the browser's UMD global), `url` the hub's `ws://…/ws`, `token` a
// subscriber and publisher token for the topic `interop`, `beat` the heart-beat in ms.
//
// Client A subscribes (with a receipt) and receives; client B sends (with receipts). Both
// beat; A's connection is cut after the first message, stompjs reconnects it, and A's
// `onConnect` subscribes again with `x-resume-after` set to the last `message-id` it has, so
// it receives the messages sent meanwhile exactly once. Resolves to what the clients saw;
// a failed step resolves to `{ error }` with that record.
async function stompScenario(StompJs, url, token, beat) {
  const topic = '/topic/interop';
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const seen = { bodies: [], ids: [], destinations: [], connects: 0, resumedWith: [],
    receipts: [], pings: 0, pongs: 0, versions: [], errors: [] };
  const until = async (what, condition) => {
    const end = Date.now() + 10000;
    while (!condition()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await wait(10);
    }
  };
  const receipt = (client, id) => {
    client.watchForReceipt(id, () => seen.receipts.push(id));
    return id;
  };
  const a = new StompJs.Client({
    brokerURL: url,
    connectHeaders: { passcode: token },
    heartbeatIncoming: beat,
    heartbeatOutgoing: beat,
    reconnectDelay: 500,
    debug: (line) => {
      if (line.includes('<<< PONG')) seen.pongs += 1;
      if (line.includes('>>> PING')) seen.pings += 1;
    },
  });
  a.onStompError = (frame) => seen.errors.push(frame.headers.message);
  a.onConnect = (frame) => {
    seen.connects += 1;
    seen.versions.push(frame.headers.version);
    const last = seen.ids[seen.ids.length - 1];
    const headers = { receipt: receipt(a, `subscribed-${seen.connects}`) };
    if (last) headers['x-resume-after'] = last;
    seen.resumedWith.push(last || null);
    a.subscribe(topic, (message) => {
      seen.bodies.push(message.body);
      seen.ids.push(message.headers['message-id']);
      seen.destinations.push(message.headers.destination);
    }, headers);
  };
  const b = new StompJs.Client({
    brokerURL: url,
    connectHeaders: { passcode: token },
    reconnectDelay: 0,
    debug: () => {},
  });
  b.onStompError = (frame) => seen.errors.push(frame.headers.message);
  const send = async (body) => {
    const id = receipt(b, `sent-${body.slice(0, 2)}`);
    b.publish({ destination: topic, body, headers: { receipt: id } });
    await until(`the receipt of ${body}`, () => seen.receipts.includes(id));
  };
  try {
    a.activate();
    await until('A subscribed', () => seen.receipts.includes('subscribed-1'));
    b.activate();
    await until('B connected', () => b.connected);
    await send('m1');
    await until('m1 at A', () => seen.bodies.length === 1);
    // Idle: both sides beat, and the connection stays up.
    await until('heart-beats both ways', () => seen.pongs >= 2 && seen.pings >= 2);
    // The socket is cut; stompjs reconnects and A resumes after m1.
    a.forceDisconnect();
    await send('m2');
    // Small ones while A is away: its resume replays them at once, several MESSAGE frames in
    // one WebSocket message, which stompjs must split.
    for (let n = 0; n < 10; n += 1) await send(`b${n}`);
    // Large enough for the hub to send it as two WebSocket fragments (head, shared tail).
    await send(`m3:${'x'.repeat(3000)}`);
    // Both were sent while A was away (what makes the resume matter).
    seen.sentWhileAway = seen.connects === 1;
    await until('A resubscribed', () => seen.receipts.includes('subscribed-2'));
    await until('m2, the small ones and m3 at A', () => seen.bodies.length >= 13);
    await wait(4 * beat);
  } catch (error) {
    seen.error = String(error);
  }
  await a.deactivate();
  await b.deactivate();
  return seen;
}

if (typeof module !== 'undefined') module.exports = { stompScenario };
