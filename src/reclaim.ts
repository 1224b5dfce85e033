import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection on demand, in whichever thread imports this. A dropped SharedArrayBuffer
 * keeps its memory until every thread that saw it has collected its handle, and an idle thread may
 * not collect for a long time; collecting right after a delete makes the release deterministic.
 * `--expose-gc` set at run time applies to contexts created afterwards, hence the new context.
 */
setFlagsFromString('--expose-gc');
export const collectGarbage = runInNewContext('gc') as () => void;
