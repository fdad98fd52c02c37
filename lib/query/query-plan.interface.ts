import type { IndexDefinition } from '../metadata/entity-definition.interface.js';
import type { QueryClause } from './find-query.interface.js';

/** How a query reads the store. */
export type QueryPlan =
  | {
      kind: 'index';
      index: IndexDefinition;
      /** Equality values of the index's leading fields. */
      equalities: unknown[];
      /** Clauses on the next index field that bound the scanned key range. */
      range: QueryClause[];
      /**
       * The values of an `in` clause on the next index field instead: one key range per value
       * is read (a record holds one key per index, so none is read twice).
       */
      alternatives?: unknown[];
      /**
       * Range clauses on `id` that bound the walk within the run the equalities select, when
       * they cover every field of the index (its keys then run in id order).
       */
      idRange: QueryClause[];
      /** The walk yields records in the requested sort order, so it can stop after one page. */
      ordered: boolean;
      /**
       * Sorted by id under an equality prefix shorter than the index: each distinct value of the
       * remaining fields holds a run of keys in id order, and merging the runs yields id order.
       */
      mergeRuns: boolean;
    }
  | {
      kind: 'scan';
      /** Clauses on `id` that bound the walk over the records. */
      range: QueryClause[];
      ordered: boolean;
    };
