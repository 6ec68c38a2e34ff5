/**
 * One open serial port. Every (re)open makes a new SerialPort and every handler
 * checks that its port is still the current one, so a replugged adapter never
 * leaves a second set of listeners behind (serialport#2028: reopening one
 * instance and adding listeners again doubled every frame).
 */
import { SerialPort } from 'serialport';
import type { SerialSettings } from './settings.js';

export interface PortEvents {
  data(chunk: Buffer): void;
  /** The port went away (unplugged, I/O error); called at most once per handle. */
  closed(reason: string): void;
}

export interface PortHandle {
  write(data: Buffer, done: (error: Error | undefined) => void): void;
  close(): Promise<void>;
}

export type OpenPort = (settings: SerialSettings, events: PortEvents) => Promise<PortHandle>;

export const openSerialPort: OpenPort = (s, events) =>
  new Promise((resolve, reject) => {
    const port = new SerialPort({ path: s.path, baudRate: s.baud, dataBits: s.dataBits, parity: s.parity, stopBits: s.stopBits, autoOpen: false });
    let live = true;
    const finish = (reason: string) => {
      if (!live) return;
      live = false;
      events.closed(reason);
    };
    // an EventEmitter without an 'error' listener throws; this one stays for the port's lifetime
    port.on('error', (e: Error) => finish(e.message));
    port.on('close', (e: (Error & { disconnected?: boolean }) | null) => finish(e ? (e.disconnected ? 'disconnected' : e.message) : 'closed'));
    port.on('data', (chunk: Buffer) => {
      if (live) events.data(chunk);
    });
    port.open((error) => {
      if (error) {
        live = false;
        reject(error);
        return;
      }
      resolve({
        write: (data, done) => {
          if (!live) return done(new Error('port is closed'));
          port.write(data, (e) => done(e ?? undefined));
        },
        close: () =>
          new Promise<void>((done) => {
            live = false;
            if (!port.isOpen) return done();
            port.close(() => done());
          }),
      });
    });
  });
