namespace ImagePictures.Contracts;

/// <summary>
/// The hub's (/hubs/pictures) server-to-client methods: one per event type of <see cref="EventTypes"/>, named as
/// the event, each with one event argument. The owner's connections and admins watching receive a <see cref="PictureEvent"/>;
/// other watchers receive the same methods with a <see cref="PublicPictureEvent"/> or <see cref="HashAvatarEvent"/>.
/// </summary>
public interface IPicturesClient
{
    Task PictureUploaded(PictureEvent e);
    Task PictureUpdated(PictureEvent e);
    Task ActivePictureChanged(PictureEvent e);
    Task PictureTrashed(PictureEvent e);
    Task PictureRestored(PictureEvent e);
    Task PicturePurged(PictureEvent e);
    Task UserPicturesDeleted(PictureEvent e);
    /// <summary>To the owner only: the hashes of the user's registered e-mail addresses changed.</summary>
    Task EmailsChanged(PictureEvent e);
}
