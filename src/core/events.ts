import { EventEmitter } from 'node:events';

export interface PocketdEvent {
  id: number;
  type: string;
  app: string | null;
  at: string;
  data: Record<string, unknown>;
}

/**
 * In-process event bus with ids and a bounded buffer of recent events, so a
 * client that reconnects can ask for what it missed.
 */
export function createEventBus(bufferSize = 1000) {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const buffer: PocketdEvent[] = [];
  let nextId = 1;
  return {
    publish(type: string, app: string | null, data: Record<string, unknown> = {}): PocketdEvent {
      const event = { id: nextId++, type, app, at: new Date().toISOString(), data };
      buffer.push(event);
      if (buffer.length > bufferSize) buffer.shift();
      emitter.emit('event', event);
      return event;
    },
    /** Events after `id` still in the buffer. */
    since(id: number): PocketdEvent[] {
      return buffer.filter((e) => e.id > id);
    },
    subscribe(fn: (e: PocketdEvent) => void): () => void {
      emitter.on('event', fn);
      return () => emitter.off('event', fn);
    },
  };
}

export type EventBus = ReturnType<typeof createEventBus>;
