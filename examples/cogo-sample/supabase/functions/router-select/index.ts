// Supabase edge function: choose the executor for a task type.
// POST { "taskType": "build.web" } -> { "executor": "dev-pc" }
const ROUTES: Array<{ pattern: string; executor: string; priority: number }> = [
  { pattern: 'build.*', executor: 'dev-pc', priority: 10 },
  { pattern: 'test.**', executor: 'dev-pc', priority: 10 },
  { pattern: 'embed.*', executor: 'gpu', priority: 20 },
  { pattern: 'notify.*', executor: 'edge', priority: 5 },
];

const corsHeaders = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'authorization, apikey, content-type',
};

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...corsHeaders, 'content-type': 'application/json' } });
}

function globMatch(pattern: string, value: string): boolean {
  const re = pattern.replace(/\./g, '\\.').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^.]*').replace(/\u0000/g, '.*');
  return new RegExp(`^${re}$`).test(value);
}

/** Edge-side twin of selectExecutor in src/core/router.ts. */
export function routerSelect(taskType: string): string {
  const hits = ROUTES.filter((r) => globMatch(r.pattern, taskType)).sort((a, b) => b.priority - a.priority);
  return hits[0]?.executor ?? 'server';
}

Deno.serve(async (req: Request) => {
  if (req.method === 'OPTIONS') return new Response('ok', { headers: corsHeaders });
  const auth = req.headers.get('Authorization') ?? '';
  const apikey = req.headers.get('apikey');
  if (!auth.startsWith('Bearer ') || !apikey) {
    return json({ error: 'missing Authorization bearer token or apikey header' }, 401);
  }
  const { taskType } = await req.json().catch(() => ({ taskType: undefined }));
  if (typeof taskType !== 'string') return json({ error: 'taskType required' }, 400);
  return json({ taskType, executor: routerSelect(taskType) });
});
