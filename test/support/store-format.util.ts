import { LmdbEnvironment } from '../../lib/storage/lmdb-environment.store.js';
import type { IndexKey } from '../../lib/storage/index-key.util.js';
import { META_DB } from '../../lib/storage/store-layout.util.js';

/** Records `format` as the store's format, as a release writing that format would. */
export async function setStoreFormat(path: string, format: number): Promise<void> {
  const environment = new LmdbEnvironment(path);
  environment.open(8);
  const meta = environment.database<unknown, IndexKey>(META_DB);
  await environment.write(() => meta.putSync(['format'], format));
  await environment.close();
}
