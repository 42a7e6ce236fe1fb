import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';
import type { SourceReason } from './report.ts';

/** Why a path could not be opened as a regular file, in the report's words. */
export interface NotOpened {
  reason: SourceReason;
  detail: string;
}

/**
 * Opens `path` for reading only when it is a regular file. The open never blocks (O_NONBLOCK: a FIFO
 * without a writer would otherwise hang it) and the type is checked on the open descriptor, not on the
 * name, so nothing can be swapped in between.
 */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle } | NotOpened> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return notOpened(path, error as NodeJS.ErrnoException);
  }
  const info = await handle.stat();
  if (info.isFile()) return { handle };
  await handle.close();
  return { reason: 'not_a_file', detail: kindOf(info) };
}

async function notOpened(path: string, error: NodeJS.ErrnoException): Promise<NotOpened> {
  switch (error.code) {
    case 'ELOOP':
      return { reason: 'link_loop', detail: 'a symbolic link that loops' };
    case 'ENOENT': {
      const link = await lstat(path).then(
        (info) => info.isSymbolicLink(),
        () => false,
      );
      return link
        ? { reason: 'dangling_link', detail: 'a symbolic link to nothing' }
        : { reason: 'not_found', detail: 'gone before it could be read' };
    }
    case 'EACCES':
    case 'EPERM':
      return { reason: 'permission', detail: 'permission denied' };
    case 'ENXIO':
      return { reason: 'not_a_file', detail: 'a socket' };
    default:
      return { reason: 'read_error', detail: error.code ?? error.message };
  }
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}
