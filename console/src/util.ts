import { isProblem } from "@rankedhonor/client";
import { html } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (and on `reload`), keeping the last data while reloading. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export function message(e: unknown): string {
  if (isProblem(e)) {
    const fields = e.errors.map((f) => `${f.field}: ${f.message}`).join("; ");
    return fields ? `${e.title}: ${fields}` : e.detail ? `${e.title}: ${e.detail}` : e.title;
  }
  return e instanceof Error ? e.message : String(e);
}

export function ErrorBox(props: { error: unknown }) {
  if (!props.error) return null;
  return html`<p class="error" role="alert" data-testid="error">${message(props.error)}</p>`;
}

export function when(ms: number | null | undefined): string {
  if (!ms) return "—";
  return new Date(ms).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

export function signed(n: number): string {
  return n > 0 ? `+${n}` : `${n}`;
}

/** The modes and regions of a default install (spin.toml `regions`; migrations' modes). */
export const MODES = ["1v1", "2v2", "4v4"];
export const REGIONS = ["na", "eu", "sa", "asia", "oce"];
