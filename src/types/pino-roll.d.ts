declare module 'pino-roll' {
  import type SonicBoom from 'sonic-boom';

  interface Options {
    file: string | (() => string);
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    symlink?: boolean;
    mkdir?: boolean;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    /** The file's permissions: pino-roll hands its other options on to SonicBoom, which opens the file. */
    mode?: number;
  }
  export default function build(options: Options): Promise<SonicBoom>;
}
