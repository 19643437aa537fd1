using Gantry.NativeCli;

return await NativeClient.RunAsync(args, Console.Out, Console.Error);
