using System.Net;
using System.Net.Sockets;

namespace GpuDeconv.Training.Tests;

/// <summary>
/// An HttpListener on 127.0.0.1 and a free port serving one body for any path: normally, with an error status, cut
/// off after some bytes, or never answering.
/// </summary>
internal sealed class LocalServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private int _requests;

    public LocalServer(byte[] body, int status = 200, bool respond = true, int? cutAfter = null)
    {
        int port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{port}/cifar-10-binary.tar.gz");
        _loop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var context = await _listener.GetContextAsync();
                    Interlocked.Increment(ref _requests);
                    if (!respond) continue;  // holds the request open until the listener stops
                    var response = context.Response;
                    response.StatusCode = status;
                    if (status != 200)
                    {
                        response.Close();
                        continue;
                    }
                    response.ContentLength64 = body.Length;
                    await response.OutputStream.WriteAsync(body.AsMemory(0, cutAfter ?? body.Length));
                    if (cutAfter is null) response.Close();
                    else response.Abort();
                }
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // The listener stopped.
            }
        });
    }

    public Uri Url { get; }

    /// <summary>Requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>A port nothing listens on right now (the OS picks it for a listener that is closed at once).</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose()
    {
        _listener.Abort();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
