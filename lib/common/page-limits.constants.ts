/** Page size of a listing (`find`, `GET /P`, audit queries) when none is asked for. */
export const DEFAULT_LIMIT = 50;

/** Largest page size a listing accepts: a page is read and shaped in one go. */
export const MAX_LIMIT = 1000;
