// The console's one API client and one WebSocket, shared by every page.
import {
  createClient,
  EventSocket,
  WebStorageTokenStore,
  type Channel,
  type EventOf,
  type SocketState,
} from "@rankedhonor/client";
import { useEffect, useState } from "preact/hooks";

// Same origin: the console is served by the API's own Spin app, so no CORS is involved.
export const client = createClient({
  baseUrl: "",
  storage: new WebStorageTokenStore(localStorage, "rankedhonor.console.session"),
});

interface ConsoleConfig {
  websocket_url: string;
}

let socket: EventSocket | null = null;
let configured: Promise<ConsoleConfig> | null = null;

function config(): Promise<ConsoleConfig> {
  configured ??= fetch("/console/config.json")
    .then((r) => (r.ok ? (r.json() as Promise<ConsoleConfig>) : { websocket_url: "" }))
    .catch(() => ({ websocket_url: "" }));
  return configured;
}

function websocketUrl(c: ConsoleConfig): string {
  if (c.websocket_url) return c.websocket_url;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}

/** The shared socket (connected once logged in). */
export async function events(): Promise<EventSocket> {
  if (!socket) {
    const url = websocketUrl(await config());
    socket ??= new EventSocket({ url, token: (o) => client.accessToken(o) });
  }
  socket.connect();
  return socket;
}

export function closeEvents(): void {
  socket?.close();
  socket = null;
}

/** Subscribes while the calling component is mounted; `onEvent` sees every event. */
export function useChannel<C extends Channel>(
  channel: C | null,
  onEvent: (e: EventOf<C>) => void,
  onReconnect?: () => void,
): void {
  useEffect(() => {
    if (!channel) return;
    let stop = () => {};
    let cancelled = false;
    void events().then((s) => {
      if (cancelled) return;
      const sub = s.subscribe(channel, (e) => onEvent(e));
      const off = onReconnect ? s.onReconnect(onReconnect) : () => {};
      stop = () => {
        sub.unsubscribe();
        off();
      };
    });
    return () => {
      cancelled = true;
      stop();
    };
  }, [channel]);
}

/** The socket's state, for the "live" indicator. */
export function useSocketState(): SocketState {
  const [state, setState] = useState<SocketState>(socket?.status ?? "idle");
  useEffect(() => {
    let off = () => {};
    void events().then((s) => {
      setState(s.status);
      off = s.onState(setState);
    });
    return () => off();
  }, []);
  return state;
}
