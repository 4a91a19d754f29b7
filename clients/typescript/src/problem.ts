// RFC 9457 problem details as a typed error. Every 4xx/5xx of the API is
// application/problem+json (docs/openapi.yaml, `Problem`); this turns one into an Error
// that carries its fields, so callers can `catch (e) { if (isProblem(e, 422)) ... }`.
import type { components } from "./generated/openapi.js";

export type Problem = components["schemas"]["Problem"];
export type FieldError = components["schemas"]["FieldError"];

export class ProblemError extends Error {
  /** HTTP status (0 when the request never got an answer). */
  readonly status: number;
  /** Problem type, e.g. `/problems/validation-failed`; `about:blank` when the body was not a problem. */
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** Field errors of a 422, one per offending field; empty otherwise. */
  readonly errors: FieldError[];
  /** Seconds from `Retry-After` (429, 503), if sent. */
  readonly retryAfter: number | undefined;
  /** The whole problem object, extension members included. */
  readonly problem: Problem;

  constructor(problem: Problem, retryAfter?: number) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = "ProblemError";
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = retryAfter;
    this.problem = problem;
  }

  /** The message of the field error for `field`, if any. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }

  /** Builds the error from a failed response and its already-parsed body (if any). */
  static fromResponse(response: Response, body: unknown): ProblemError {
    const retry = Number(response.headers.get("retry-after"));
    const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
    if (isProblemBody(body)) return new ProblemError(body, retryAfter);
    return new ProblemError(
      {
        type: "about:blank",
        title: response.statusText || `HTTP ${response.status}`,
        status: response.status,
        detail: typeof body === "string" && body ? body.slice(0, 200) : undefined,
      },
      retryAfter,
    );
  }

  /** A request that got no answer (network down, CORS refusal, aborted). */
  static network(cause: unknown): ProblemError {
    const e = new ProblemError({
      type: "about:blank",
      title: "Network error",
      status: 0,
      detail: cause instanceof Error ? cause.message : String(cause),
    });
    (e as { cause?: unknown }).cause = cause;
    return e;
  }
}

function isProblemBody(body: unknown): body is Problem {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  return typeof b.type === "string" && typeof b.title === "string" && typeof b.status === "number";
}

/** Whether `e` is a ProblemError, optionally of one of `statuses`. */
export function isProblem(e: unknown, ...statuses: number[]): e is ProblemError {
  return e instanceof ProblemError && (statuses.length === 0 || statuses.includes(e.status));
}
