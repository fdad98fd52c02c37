import type { Database } from 'lmdb';

/** msgpackr's list of shapes, as lmdb-js keeps it on a database's encoder. */
type StructureList = unknown[] & { uninitialized?: boolean; sharedLength?: number };

/** The part of a database's msgpackr encoder this watches: its shapes and the hook that stores them. */
interface StructuresEncoder {
  structures: StructureList;
  saveStructures: (structures: unknown, isCompatible: unknown) => unknown;
}

/**
 * Keeps the shared msgpack structures of each database in step with what is committed.
 *
 * msgpackr adds a shape it meets for the first time to its list in memory and stores the list
 * inside the write being encoded. When that write rolls back (its callback threw) or its commit
 * fails, the list in memory still holds the shape, so a later value of the same shape would be
 * written with a structure the store never got and could not be read after a restart. So the
 * list of every database a failed write stored shapes in is dropped, and msgpackr reloads it
 * from the store on next use. While a write that stored shapes has not committed, each write
 * also reloads those lists from what its own transaction sees: writes batched into a later
 * commit can run before the earlier commit is known to have failed.
 */
export class SharedStructures {
  /** Encoders the write running now stored shapes through. */
  private saved?: Set<StructuresEncoder>;
  /** Encoders with shapes stored by writes whose commit has not settled, and how many such writes. */
  private readonly unsettled = new Map<StructuresEncoder, number>();

  /** Watches a database opened with a `sharedStructuresKey`. */
  watch(db: Database): void {
    const encoder = (db as unknown as { encoder?: StructuresEncoder }).encoder;
    if (typeof encoder?.saveStructures !== 'function')
      throw new Error('lmdb opened a database with shared structures without a msgpackr encoder that saves them');
    const save = encoder.saveStructures;
    encoder.saveStructures = (structures, isCompatible) => {
      const result = save(structures, isCompatible);
      // false: another writer changed the list first; msgpackr reloads it and encodes again.
      if (result !== false) (this.saved ??= new Set()).add(encoder);
      return result;
    };
  }

  /** As a write's callback starts, inside its transaction. */
  begin(): void {
    this.saved = undefined;
    for (const encoder of this.unsettled.keys()) forget(encoder);
  }

  /** As the write's callback ends; returns what its commit must settle, if it stored shapes. */
  end(threw: boolean): Set<StructuresEncoder> | undefined {
    const saved = this.saved;
    this.saved = undefined;
    if (!saved) return undefined;
    if (threw) {
      saved.forEach(forget);
      return undefined;
    }
    for (const encoder of saved) this.unsettled.set(encoder, (this.unsettled.get(encoder) ?? 0) + 1);
    return saved;
  }

  /** Once the commit of a write that stored shapes has succeeded or failed. */
  settle(saved: Set<StructuresEncoder> | undefined, committed: boolean): void {
    if (!saved) return;
    for (const encoder of saved) {
      const writes = (this.unsettled.get(encoder) ?? 1) - 1;
      if (writes > 0) this.unsettled.set(encoder, writes);
      else this.unsettled.delete(encoder);
      if (!committed) forget(encoder);
    }
  }
}

/** Leaves the encoder as msgpackr leaves a new one: its list is read from the store when next needed. */
function forget(encoder: StructuresEncoder): void {
  const list: StructureList = [];
  list.uninitialized = true;
  list.sharedLength = 0;
  encoder.structures = list;
}
