Console.WriteLine("fakes");
