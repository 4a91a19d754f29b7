// The console's shell: login gate, navigation, and the page for the current path.
import { isProblem } from "@rankedhonor/client";
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./style.css";
import { Admin } from "./pages/admin.js";
import { Leaderboards } from "./pages/leaderboards.js";
import { Login } from "./pages/login.js";
import { MatchPage } from "./pages/match.js";
import { Player } from "./pages/player.js";
import { Queue } from "./pages/queue.js";
import { Link, match, navigate, useRoute } from "./router.js";
import { client, closeEvents, useSocketState } from "./state.js";

function LiveBadge() {
  const state = useSocketState();
  const label = state === "open" ? "live" : state === "reconnecting" || state === "connecting" ? "connecting" : "offline";
  return html`<span class="live ${label}" data-testid="live" title=${`WebSocket: ${state}`}>${label}</span>`;
}

function NotAdmin() {
  return html`<section data-testid="not-admin"><h1>Admins only</h1>
    <p>This account is not an admin. An admin is made with <code>rh-migrate promote-admin EMAIL</code>.</p></section>`;
}

function Page() {
  const route = useRoute();
  const isAdmin = client.currentUser?.role === "admin";
  const p = route.path;
  let m: Record<string, string> | null;
  if (p === "/" || p === "") return html`<${Leaderboards} query=${route.query} />`;
  if ((m = match("/players/:id", p))) return html`<${Player} id=${Number(m.id)} />`;
  if ((m = match("/matches/:id", p))) return html`<${MatchPage} id=${Number(m.id)} />`;
  if (p === "/queue") return html`<${Queue} />`;
  // The page stays closed to players; the API refuses them (403) whatever the page does.
  if (p === "/admin") return isAdmin ? html`<${Admin} query=${route.query} />` : html`<${NotAdmin} />`;
  return html`<section><h1>Not found</h1><p><${Link} href="/">Leaderboards</${Link}></p></section>`;
}

function App() {
  const [loggedIn, setLoggedIn] = useState(client.loggedIn);
  const [menu, setMenu] = useState(false);
  const route = useRoute();
  useEffect(() => client.onSessionChange((s) => setLoggedIn(s !== null)), []);
  useEffect(() => {
    // Fresh profile (role included) on every load; a dead session ends here.
    if (client.loggedIn)
      client.me().catch((e) => {
        if (isProblem(e, 401)) client.session.set(null);
      });
  }, []);
  useEffect(() => setMenu(false), [route.path, route.query.toString()]);
  if (!loggedIn) return html`<${Login} onDone=${() => setLoggedIn(true)} />`;
  const user = client.currentUser;
  const logout = async () => {
    closeEvents();
    await client.logout().catch(() => {});
    navigate("/", { replace: true });
  };
  const nav = (href: string, label: string, testid: string) =>
    html`<${Link} href=${href} class=${route.path === href.split("?")[0] ? "active" : ""} data-testid=${testid}>${label}</${Link}>`;
  return html`<div class="shell">
    <header>
      <${Link} href="/" class="brand">RankedHonor</${Link}>
      <button class="menu" aria-label="Menu" aria-expanded=${menu} onClick=${() => setMenu(!menu)}>☰</button>
      <nav class=${menu ? "open" : ""}>
        ${nav("/", "Leaderboards", "nav-leaderboards")}
        ${nav("/queue", "Queue", "nav-queue")}
        ${user && nav(`/players/${user.id}`, "Me", "nav-me")}
        ${user?.role === "admin" && nav("/admin", "Admin", "nav-admin")}
        <span class="who">${user?.username}</span>
        <${LiveBadge} />
        <button class="link" onClick=${logout} data-testid="logout">Log out</button>
      </nav>
    </header>
    <main><${Page} /></main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app")!);
