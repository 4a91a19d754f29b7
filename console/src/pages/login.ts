import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { client } from "../state.js";
import { ErrorBox } from "../util.js";

export function Login(props: { onDone: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.login({ email, password });
      await client.me();
      props.onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login">
    <h1>RankedHonor console</h1>
    <form onSubmit=${submit} data-testid="login-form">
      <label>Email <input type="email" name="email" autocomplete="username" required value=${email}
        onInput=${(e: Event) => setEmail((e.target as HTMLInputElement).value)} /></label>
      <label>Password <input type="password" name="password" autocomplete="current-password" required value=${password}
        onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)} /></label>
      <button type="submit" disabled=${busy}>${busy ? "Logging in…" : "Log in"}</button>
      <${ErrorBox} error=${error} />
    </form>
  </main>`;
}
