/**
 * Embedding and chunk helpers for the knowledge RAG: split documents into
 * overlapping chunks, embed them into 384-dim vectors and compare them.
 */
export const EMBEDDING_DIM = 384;

export interface TextChunk {
  index: number;
  start: number;
  end: number;
  text: string;
}

/** Split text into chunks of roughly `size` characters with `overlap` characters of context. */
export function chunkText(text: string, size = 800, overlap = 100): TextChunk[] {
  if (overlap >= size) throw new RangeError('overlap must be smaller than size');
  const chunks: TextChunk[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    const newline = text.lastIndexOf('\n', end);
    if (newline > start + size / 2 && end < text.length) end = newline;
    chunks.push({ index: chunks.length, start, end, text: text.slice(start, end) });
    if (end >= text.length) break;
    start = end - overlap;
  }
  return chunks;
}

/** Deterministic hashed bag-of-words embedding (offline fallback for the real model). */
export function embedText(text: string, dim: number = EMBEDDING_DIM): Float32Array {
  const vec = new Float32Array(dim);
  for (const token of text.toLowerCase().split(/[^a-z0-9_]+/).filter(Boolean)) {
    let h = 2166136261;
    for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 16777619);
    vec[Math.abs(h) % dim] += 1;
  }
  return normalize(vec);
}

export function normalize(vec: Float32Array): Float32Array {
  let norm = 0;
  for (const v of vec) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  return vec.map((v) => v / norm);
}

export const cosineSimilarity = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
};
