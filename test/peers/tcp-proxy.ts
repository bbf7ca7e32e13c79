import net, { type AddressInfo, type Socket } from 'node:net'

/** A TCP proxy on loopback that a test can cut and restore, to take a real dependency away from a process. */
export async function startTcpProxy (target: { host: string, port: number }) {
  const sockets = new Set<Socket>()
  let up = true
  const server = net.createServer((client) => {
    if (!up) return client.destroy()
    const upstream = net.connect(target)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => { client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    /** Drops every open connection and refuses new ones. */
    cut () { up = false; for (const s of sockets) s.destroy() },
    restore () { up = true },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) })
  }
}
