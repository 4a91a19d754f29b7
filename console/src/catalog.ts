// Modes and regions: read once from the queue overview (which lists every configured
// queue), with a default install's values until it answers.
import { useEffect, useState } from "preact/hooks";
import { client } from "./state.js";

export interface Catalog {
  modes: string[];
  regions: string[];
}

const DEFAULT: Catalog = { modes: ["1v1", "2v2", "4v4"], regions: ["na", "eu", "sa", "asia", "oce"] };
let cached: Catalog | null = null;
let pending: Promise<Catalog> | null = null;

export function loadCatalog(): Promise<Catalog> {
  pending ??= client
    .queues()
    .then((o) => (cached = { modes: o.modes, regions: o.regions }))
    .catch(() => DEFAULT);
  return pending;
}

export function useCatalog(): Catalog {
  const [c, setC] = useState<Catalog>(cached ?? DEFAULT);
  useEffect(() => {
    void loadCatalog().then(setC);
  }, []);
  return c;
}
