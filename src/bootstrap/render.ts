/** One entry point for every bootstrap format, all rendered from the same inputs. */
import type { BootstrapInputs } from './inputs.js';
import type { Format } from './formats.js';
import { renderCloudInit } from './cloud-init.js';
import { renderIgnition } from './ignition.js';
import { renderCoreosCloudinit } from './coreos-cloudinit.js';

export { FORMATS, type Format } from './formats.js';

export function renderBootstrap(format: Format, inputs: BootstrapInputs): string {
  switch (format) {
    case 'cloud-init':
      return renderCloudInit(inputs);
    case 'ignition':
      return renderIgnition(inputs);
    case 'coreos-cloudinit':
      return renderCoreosCloudinit(inputs);
  }
}
