import { Unzip } from 'fflate';
import { AppError } from '../errors/AppError.js';
import { MAX_THEME_UNPACKED_BYTES } from './themePackage.js';

/**
 * Checks a theme ZIP while it is still being uploaded, from each entry's local header: once the
 * entries declare more than the unpacked limit (a "ZIP bomb"), the upload is refused without
 * reading the rest. Everything else (not a ZIP, bad files) is left to the full check
 * (validateThemePackage) on the complete file, with its own messages.
 */
export class ThemeZipStreamCheck {
  private readonly unzip = new Unzip();
  private declared = 0;
  /** Not parseable as a ZIP stream: no longer fed; the full check reports it. */
  private unreadable = false;

  constructor() {
    this.unzip.onfile = (file) => {
      // Archives written in a streaming fashion carry no sizes here: the full check covers them.
      this.declared += file.originalSize ?? 0;
    };
  }

  /** Feeds the next chunk; throws the field error as soon as the upload is known to be too large unpacked. */
  push(chunk: Uint8Array): void {
    if (this.unreadable) return;
    try {
      this.unzip.push(chunk);
    } catch {
      this.unreadable = true;
    }
    if (this.declared > MAX_THEME_UNPACKED_BYTES) {
      throw AppError.validation({ package: [`The theme must unpack to no more than ${MAX_THEME_UNPACKED_BYTES / 1024 / 1024} MB.`] });
    }
  }
}
