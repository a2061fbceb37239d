import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { TelephoneEventDecoder, type DtmfDigit } from './telephoneEvent.js';

/**
 * mediasoup forwards only media codecs: its consumers drop telephone-event packets (a
 * "complementary" codec), so RFC 4733 digits never leave the worker as such. The SIP producer
 * therefore declares the phone's telephone-event payload type as a second 8-kHz codec the routers
 * carry (G.711, the one the call does not use: the carrier). This tap consumes only that carrier
 * codec, so only the event packets reach JavaScript, where they are decoded as RFC 4733. The
 * mixer drops them (a payload type that is not its source's).
 */
export class TelephoneEventTap {
  private readonly decoder = new TelephoneEventDecoder();

  private constructor(
    private readonly transport: types.DirectTransport,
    onDigit: (digit: DtmfDigit) => void,
    consumer: types.Consumer,
  ) {
    consumer.on('rtp', (rtp) => {
      const digit = this.decoder.push(rtp);
      if (digit) onDigit(digit);
    });
  }

  /** Taps `producer` (on `router`) for the events it carries as `carrierMimeType`. */
  static async open(
    router: types.Router,
    producer: types.Producer,
    carrierMimeType: string,
    onDigit: (d: DtmfDigit) => void,
    log: Logger,
  ): Promise<TelephoneEventTap> {
    const carrier = router.rtpCapabilities.codecs?.find((c) => c.kind === 'audio' && c.mimeType.toLowerCase() === carrierMimeType.toLowerCase());
    if (!carrier) throw new Error(`the router has no ${carrierMimeType} to carry telephone-event`);
    const transport = await router.createDirectTransport();
    try {
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: { codecs: [carrier], headerExtensions: [] } });
      return new TelephoneEventTap(
        transport,
        (d) => {
          try {
            onDigit(d);
          } catch (err) {
            log.warn({ err }, 'DTMF handler failed');
          }
        },
        consumer,
      );
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** The G.711 codec that carries a call's telephone-event packets: the one its audio is not. */
export function carrierMimeType(audioMimeType: string): 'audio/PCMU' | 'audio/PCMA' {
  return audioMimeType.toLowerCase() === 'audio/pcmu' ? 'audio/PCMA' : 'audio/PCMU';
}
