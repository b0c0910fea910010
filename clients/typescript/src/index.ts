/**
 * A typed client for the Flowdesk REST API v1: openapi-fetch over the types openapi-typescript
 * generates from the app's OpenAPI document (src/schema.d.ts, written by `npm run generate`).
 *
 *   const fd = createClient({ baseUrl: "http://localhost:3000", apiKey: "fdk_…" });
 *   const run = unwrap(await fd.POST("/api/v1/workflows/{workflow_id}/runs", {
 *     params: { path: { workflow_id }, query: { wait: 10 }, header: idempotent() },
 *     body: { input: { "Full Name": "Jane Doe" } },
 *   }));
 *
 * Every path, parameter, body and answer is checked against the document by `tsc`.
 */
import createFetchClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, paths } from "./schema.d.ts";

export type { components, operations, paths } from "./schema.d.ts";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type Run = Schemas["RunPublic"];
export type Step = Schemas["StepPublic"];
export type Workflow = Schemas["WorkflowPublic"];
export type FlowdeskClient = Client<paths>;

export interface FlowdeskOptions extends Omit<ClientOptions, "baseUrl" | "headers"> {
  /** The server, e.g. `http://localhost:3000` (the paths carry `/api/v1`). */
  baseUrl: string;
  /** An API key (`python -m app.cli mint-api-key` or the settings page), sent as a bearer. */
  apiKey: string;
  /** Headers for every request besides the key's (e.g. `X-Workspace-Id`). */
  headers?: Record<string, string>;
}

/** A client whose every request carries `Authorization: Bearer <apiKey>`. */
export function createClient({ baseUrl, apiKey, headers, ...options }: FlowdeskOptions): FlowdeskClient {
  return createFetchClient<paths>({
    ...options,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { ...headers, Authorization: `Bearer ${apiKey}` },
  });
}

/**
 * The `Idempotency-Key` header for a POST: a retry with the same key and body within 24 h
 * answers the original response (header `Idempotency-Replayed: true`) instead of acting
 * twice. Keep the key to retry with; a fresh UUID when none is given.
 */
export function idempotent(key: string = crypto.randomUUID()): { "Idempotency-Key": string } {
  return { "Idempotency-Key": key };
}

/** An error answer: its HTTP status and problem+json document (`code`, `detail`, `errors`). */
export class FlowdeskError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: Problem | undefined) {
    super(`${status} ${problem?.code ?? "ERROR"}: ${problem?.detail ?? "no details"}`);
    this.name = "FlowdeskError";
    this.status = status;
    this.problem = problem;
  }
}

/** The answer's data, or a FlowdeskError for a 4xx/5xx answer. */
export function unwrap<Data>(result: { data?: Data; error?: unknown; response: Response }): Data {
  if (!result.response.ok || result.data === undefined) {
    throw new FlowdeskError(result.response.status, result.error as Problem | undefined);
  }
  return result.data;
}
