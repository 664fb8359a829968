/**
 * Reads a Server-Sent Events stream to its end (or until `signal`), returning every event;
 * `onEvent` sees each one as it arrives.
 */
export interface SseEvent {
  event: string;
  data: unknown;
}

export async function readEvents(
  url: string,
  key: string,
  signal?: AbortSignal,
  onEvent?: (event: SseEvent) => void,
): Promise<SseEvent[]> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${key}` },
    ...(signal ? { signal } : {}),
  });
  if (response.status !== 200) throw new Error(`events: HTTP ${response.status} ${await response.text()}`);
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream'))
    throw new Error(`events: content-type ${response.headers.get('content-type')}`);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) {
        const parsed = { event, data: JSON.parse(data) as unknown };
        events.push(parsed);
        onEvent?.(parsed);
      }
    }
  }
  return events;
}
