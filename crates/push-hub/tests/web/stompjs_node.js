// Runs stompjs_scenario.js in Node with the `ws` package as WebSocket (what stompjs's
// documentation prescribes for Node); prints what the clients saw as one JSON line.
// Usage: node stompjs_node.js URL TOKEN BEAT_MS (NODE_PATH: the folder holding the packages).
const StompJs = require('@stomp/stompjs');
Object.assign(globalThis, { WebSocket: require('ws') });
const { stompScenario } = require('./stompjs_scenario.js');

const [url, token, beat] = process.argv.slice(2);
stompScenario(StompJs, url, token, Number(beat)).then((seen) => {
  console.log(JSON.stringify(seen));
  process.exit(0);
});
