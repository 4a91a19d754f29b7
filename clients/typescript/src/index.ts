// @rankedhonor/client: a typed client for the RankedHonor API (HTTP, from
// docs/openapi.yaml) and its WebSocket events (rh-sidecar, docs/events.md).
export { createClient, ok, RankedHonorClient, type ClientOptions } from "./client.js";
export type * from "./client.js";
export { ProblemError, isProblem, type Problem, type FieldError } from "./problem.js";
export {
  MemoryTokenStore,
  WebStorageTokenStore,
  type TokenStore,
  type StoredSession,
  type PrivateUser,
  type AuthResponse,
} from "./session.js";
export {
  EventSocket,
  type EventSocketOptions,
  type SocketState,
  type Subscription,
  type ControlMessage,
  type WebSocketFactory,
  type WebSocketLike,
} from "./socket.js";
export { channels, type Channel, type EventOf } from "./channels.js";
export type * from "./events.js";
export type { paths, components, operations } from "./generated/openapi.js";

import type { RankedHonorClient } from "./client.js";
import { EventSocket, type EventSocketOptions } from "./socket.js";

/** An EventSocket that takes its tokens from `client` (refreshing them as needed). */
export function connectEvents(
  client: RankedHonorClient,
  url: string,
  opts: Omit<EventSocketOptions, "url" | "token"> = {},
): EventSocket {
  const socket = new EventSocket({ ...opts, url, token: (o) => client.accessToken(o) });
  socket.connect();
  return socket;
}
export { GameServer, signRequest } from "./gameserver.js";
