namespace Orchestrator.Telegram;

/// <summary>The flood limiter's verdict on one message.</summary>
public enum FloodVerdict
{
    /// <summary>Handle the message.</summary>
    Allow = 0,

    /// <summary>Over the limit for the first time in this burst: send the "please slow down" text instead of an answer.</summary>
    Warn,

    /// <summary>Still over the limit and already warned: skip the message silently.</summary>
    Skip,
}

/// <summary>
/// Per-user flood control for one bot (SPEC §7): more than <see cref="MaxMessages"/> messages from one user within a
/// sliding <see cref="Window"/> are not answered. The first message over the limit gets <see cref="FloodVerdict.Warn"/>,
/// the following ones <see cref="FloodVerdict.Skip"/>, until fewer than <see cref="MaxMessages"/> of the user's messages
/// (skipped ones included) remain in the window. Thread-safe. Memory is bounded: only the last
/// <see cref="MaxMessages"/> timestamps per user are kept, and users idle for a whole window are forgotten.
/// </summary>
public sealed class FloodLimiter(TimeProvider timeProvider, int maxMessages = 10, TimeSpan? window = null)
{
    private readonly Dictionary<long, UserWindow> _users = [];
    private readonly Lock _lock = new();
    private int _purgeAt = 256;

    /// <summary>Messages allowed per user within <see cref="Window"/>. Default 10.</summary>
    public int MaxMessages { get; } = maxMessages > 0 ? maxMessages : throw new ArgumentOutOfRangeException(nameof(maxMessages));

    /// <summary>The sliding window. Default 10 s.</summary>
    public TimeSpan Window { get; } = window ?? TimeSpan.FromSeconds(10);

    /// <summary>Users currently tracked (for tests and metrics).</summary>
    public int TrackedUsers
    {
        get
        {
            lock (_lock)
            {
                return _users.Count;
            }
        }
    }

    /// <summary>Records a message from <paramref name="userId"/> and says whether to handle it.</summary>
    public FloodVerdict Check(long userId)
    {
        var now = timeProvider.GetUtcNow();
        lock (_lock)
        {
            if (_users.Count >= _purgeAt)
            {
                Purge(now);
            }

            if (!_users.TryGetValue(userId, out var user))
            {
                user = new UserWindow(MaxMessages);
                _users[userId] = user;
            }

            return user.Record(now, Window);
        }
    }

    private void Purge(DateTimeOffset now)
    {
        foreach (var (userId, user) in _users)
        {
            if (now - user.Last >= Window)
            {
                _users.Remove(userId);
            }
        }

        _purgeAt = Math.Max(256, _users.Count * 2);
    }

    /// <summary>A ring of the user's last N message times, as UTC ticks (half the size of <see cref="DateTimeOffset"/>s).</summary>
    private sealed class UserWindow(int capacity)
    {
        private readonly long[] _times = new long[capacity];
        private int _count;
        private int _next;
        private bool _warned;

        public DateTimeOffset Last { get; private set; }

        public FloodVerdict Record(DateTimeOffset now, TimeSpan window)
        {
            // The oldest of the last N messages; if it is still inside the window, this one is message N+1 or later.
            var full = _count == _times.Length;
            var overLimit = full && now.UtcTicks - _times[_next] < window.Ticks;

            _times[_next] = now.UtcTicks;
            _next = (_next + 1) % _times.Length;
            _count = Math.Min(_count + 1, _times.Length);
            Last = now;

            if (!overLimit)
            {
                _warned = false;
                return FloodVerdict.Allow;
            }

            if (_warned)
            {
                return FloodVerdict.Skip;
            }

            _warned = true;
            return FloodVerdict.Warn;
        }
    }
}
