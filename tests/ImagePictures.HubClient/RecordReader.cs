using System.Buffers;
using System.Net.WebSockets;

namespace ImagePictures.HubClient;

/// <summary>Reads 0x1E-separated records from a WebSocket (records may span frames, frames may hold many records).</summary>
internal sealed class RecordReader(WebSocket socket)
{
    public const byte Separator = 0x1E;

    private readonly byte[] _buffer = new byte[16 * 1024];
    private readonly ArrayBufferWriter<byte> _pending = new();
    private readonly Queue<byte[]> _ready = new();

    /// <summary>Next complete record (without the separator), or null when the peer sent a Close frame.</summary>
    public async ValueTask<byte[]?> ReadAsync(CancellationToken ct)
    {
        while (_ready.Count == 0)
        {
            var r = await socket.ReceiveAsync(_buffer.AsMemory(), ct).ConfigureAwait(false);
            if (r.MessageType == WebSocketMessageType.Close)
                return null;

            var start = 0;
            var span = _buffer.AsSpan(0, r.Count);
            int idx;
            while ((idx = span[start..].IndexOf(Separator)) >= 0)
            {
                var part = span.Slice(start, idx);
                if (_pending.WrittenCount == 0)
                {
                    _ready.Enqueue(part.ToArray());
                }
                else
                {
                    _pending.Write(part);
                    _ready.Enqueue(_pending.WrittenSpan.ToArray());
                    _pending.ResetWrittenCount();
                }
                start += idx + 1;
            }
            if (start < span.Length)
                _pending.Write(span[start..]);
        }
        return _ready.Dequeue();
    }
}
