// push.js: the hub's browser client for WebSocket and long polling (see assets/README.md).
export const version = "0";
