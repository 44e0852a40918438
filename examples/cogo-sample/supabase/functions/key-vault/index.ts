// Supabase edge function: store a provider API key encrypted with AES-GCM.
// POST { "tenantId": "...", "name": "openai", "value": "sk-..." }
import { createClient } from 'npm:@supabase/supabase-js@2';

const MASTER_KEY = Deno.env.get('COGO_VAULT_MASTER_KEY') ?? '';

async function deriveKey(tenantId: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(MASTER_KEY), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', salt: new TextEncoder().encode(`cogo:${tenantId}`), iterations: 100_000, hash: 'SHA-256' },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt'],
  );
}

const b64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

/** Encrypt a secret for a tenant; returns iv and ciphertext (tag appended) as base64. */
export async function encryptSecret(tenantId: string, value: string): Promise<{ iv: string; ciphertext: string }> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await deriveKey(tenantId);
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(value));
  return { iv: b64(iv), ciphertext: b64(new Uint8Array(data)) };
}

Deno.serve(async (req: Request) => {
  const auth = req.headers.get('Authorization');
  if (!auth?.startsWith('Bearer ') || !req.headers.get('apikey')) {
    return new Response(JSON.stringify({ error: 'unauthorized' }), { status: 401 });
  }
  if (MASTER_KEY.length < 16) return new Response(JSON.stringify({ error: 'vault not configured' }), { status: 500 });
  const { tenantId, name, value } = await req.json();
  const { iv, ciphertext } = await encryptSecret(tenantId, value);
  const supabase = createClient(Deno.env.get('SUPABASE_URL')!, Deno.env.get('SUPABASE_SERVICE_ROLE_KEY')!);
  const { error } = await supabase.from('secrets').upsert({ tenant_id: tenantId, name, iv, tag: '', ciphertext, key_version: 1 });
  if (error) return new Response(JSON.stringify({ error: error.message }), { status: 500 });
  return new Response(JSON.stringify({ stored: name }), { status: 201, headers: { 'content-type': 'application/json' } });
});
