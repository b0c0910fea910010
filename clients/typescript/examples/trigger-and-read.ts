/**
 * Trigger a run of a workflow and read it back, with the typed client.
 *
 *   FLOWDESK_URL=http://localhost:3000 FLOWDESK_API_KEY=fdk_… \
 *     node examples/trigger-and-read.ts [WORKFLOW_ID] ['{"Full Name": "Jane Doe", …}']
 *
 * Without a workflow id it takes the first published workflow. The trigger waits up to 10 s
 * for the run to complete, block or flag; the same request is sent again with the same
 * Idempotency-Key to show it answers the same run. Prints one JSON object; an error answer
 * prints its status and problem code and exits 1.
 */
import { type FlowdeskClient, createClient, idempotent, unwrap } from "../src/index.ts";

const DEMO_INPUT = { "Full Name": "Jane Doe", Email: "jane@acme.com" };
const WAIT_S = 10;

async function firstPublishedWorkflow(fd: FlowdeskClient): Promise<string> {
  const page = unwrap(await fd.GET("/api/v1/workflows", {
    params: { query: { status: "published", limit: 1 } },
  }));
  const workflow = page.data[0];
  if (!workflow) throw new Error("no published workflow: pass a workflow id");
  return workflow.id;
}

async function main(): Promise<void> {
  const apiKey = process.env.FLOWDESK_API_KEY;
  if (!apiKey) throw new Error("set FLOWDESK_API_KEY (python -m app.cli mint-api-key)");
  const fd = createClient({ baseUrl: process.env.FLOWDESK_URL ?? "http://localhost:3000", apiKey });
  const workflowId = process.argv[2] ?? (await firstPublishedWorkflow(fd));
  const input: Record<string, unknown> = process.argv[3] ? JSON.parse(process.argv[3]) : DEMO_INPUT;

  const key = idempotent();
  const trigger = () => fd.POST("/api/v1/workflows/{workflow_id}/runs", {
    params: { path: { workflow_id: workflowId }, query: { wait: WAIT_S }, header: key },
    body: { input },
  });
  const started = unwrap(await trigger());
  const again = await trigger();
  const run = unwrap(await fd.GET("/api/v1/runs/{run_id}", {
    params: { path: { run_id: started.id } },
  }));

  console.log(JSON.stringify({
    run_id: run.id,
    workflow_id: run.workflow_id,
    workflow_title: run.workflow_title,
    status: run.status,
    steps: run.steps.map((step) => ({ key: step.key, kind: step.kind, status: step.status })),
    replay: {
      run_id: unwrap(again).id,
      replayed: again.response.headers.get("Idempotency-Replayed") === "true",
    },
  }, null, 2));
}

main().catch((error: unknown) => {
  console.error(String(error));
  process.exitCode = 1;
});
